"""``nuage market``: run the order book service.

The service stack (FastAPI, uvicorn, SQLAlchemy) is imported inside the command, so that loading
the ``nuage`` command stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nuage.exceptions import ConfigError

if TYPE_CHECKING:
    from nuage.market.settings import MarketSettings

__all__ = ["app"]

DEFAULT_URL = "http://127.0.0.1:8702"  # nuage.market.DEFAULT_MARKET_URL, without importing it

app = typer.Typer(
    name="market",
    help="""The order book: where signed orders wait to be matched.

Asset owners publish app, dataset and workerpool orders, requesters their request orders;
the market checks each one against the chain (signature, owner, volume left), serves them
cheapest first, drops them as deals use them up, owners cancel them or assets change hands,
and explains why a request matches nothing.

```
nuage market serve                       # on 127.0.0.1:8702, the book in $NUAGE_HOME/market.db
nuage market serve --database-url postgresql+psycopg://user:password@host/market
```

The devnet starts one (`nuage devnet status` says where).""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)


@app.callback()
def _market() -> None:
    """The order book (a group, even while `serve` is its only command)."""


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on [default: 127.0.0.1, or NUAGE_MARKET_HOST]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="TCP port [default: 8702, or NUAGE_MARKET_PORT].", min=0, max=65535),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Where the book is kept: sqlite:///PATH or postgresql+psycopg://… [default: "
            "NUAGE_MARKET_DATABASE_URL, else sqlite:///$NUAGE_HOME/market.db].",
            show_default=False,
        ),
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            metavar="URL",
            help="JSON-RPC URL of the chain [default: NUAGE_MARKET_RPC_URL, $NUAGE_RPC_URL, "
            "else the running devnet's].",
        ),
    ] = None,
    deployment: Annotated[
        Path | None,
        typer.Option(
            help="The deployment record [default: NUAGE_MARKET_DEPLOYMENT, else the one nuage "
            "keeps for the chain].",
            dir_okay=False,
        ),
    ] = None,
    confirmations: Annotated[
        int | None,
        typer.Option(
            help="Blocks an event must be buried under before the book takes it [default: 0].",
            min=0,
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
) -> None:
    """Run the market in the foreground until Ctrl-C; logs go to stderr.

    Example: `nuage market serve --port 8702 --rpc http://127.0.0.1:8545`

    Options not given come from `NUAGE_MARKET_*` environment variables, then the defaults. The
    book follows the chain from the deployment's first block, and resumes where it stopped.
    """
    from nuage.market import service

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "database_url": database_url,
        "rpc_url": rpc,
        "deployment": deployment,
        "confirmations": confirmations,
    }
    settings = _settings({name: value for name, value in overrides.items() if value is not None})
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(f"{log_level!r} is not a log level", param_hint="--log-level")
    service.serve(settings, log_level=log_level.lower())


def _settings(overrides: dict[str, Any]) -> MarketSettings:
    from pydantic import ValidationError

    from nuage.market.settings import MarketSettings

    try:
        return MarketSettings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(f"invalid market settings ({problems})") from None
