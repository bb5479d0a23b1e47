"""``nuage explorer``: run the web explorer and DApp Store.

The service stack (FastAPI, uvicorn, SQLAlchemy, Jinja2) is imported inside the command, so that
loading the ``nuage`` command stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nuage.exceptions import ConfigError

if TYPE_CHECKING:
    from nuage.explorer.settings import ExplorerSettings

__all__ = ["app"]

app = typer.Typer(
    name="explorer",
    help="""The web explorer and DApp Store: look at the network in a browser.

Apps as cards with their price and runs, the order book, deals, tasks whose status changes
live, pools, workers and accounts, read from the chain (followed into a local index), the
market and the pool's scheduler. Every page works with a part down and says which.

```
nuage explorer serve            # on http://127.0.0.1:8704, reading the devnet
nuage explorer serve --port 9000 --rpc http://127.0.0.1:8545 --market http://127.0.0.1:8702
```

The devnet starts one (`nuage devnet status` says where).""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)


@app.callback()
def _explorer() -> None:
    """The explorer (a group, even while `serve` is its only command)."""


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on [default: 127.0.0.1, or NUAGE_EXPLORER_HOST]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="TCP port [default: 8704, or NUAGE_EXPLORER_PORT].", min=0, max=65535),
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            metavar="URL",
            help="JSON-RPC URL of the chain [default: NUAGE_EXPLORER_RPC_URL, $NUAGE_RPC_URL, "
            "else the running devnet's].",
        ),
    ] = None,
    market: Annotated[
        str | None,
        typer.Option("--market", metavar="URL", help="The market service [default: the devnet's]."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="URL",
            help="A pool's scheduler, for task logs [default: the devnet pool's].",
        ),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            metavar="URL",
            help="The storage service, for results [default: the devnet's].",
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="The index, a SQLite file rebuilt from the chain when deleted [default: "
            "$NUAGE_HOME/explorer.db].",
            dir_okay=False,
        ),
    ] = None,
    deployment: Annotated[
        Path | None,
        typer.Option(
            help="The deployment record [default: the one nuage keeps for the chain, else the "
            "devnet's].",
            dir_okay=False,
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
) -> None:
    """Run the explorer in the foreground until Ctrl-C; logs go to stderr.

    Example: `nuage explorer serve --port 8704`, then open http://127.0.0.1:8704

    Options not given come from `NUAGE_EXPLORER_*` environment variables, then the running
    devnet, then the usual local ports. The index follows the chain from the deployment's first
    block and resumes where it stopped.
    """
    from nuage.explorer import service

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "rpc_url": rpc,
        "market_url": market,
        "scheduler_url": scheduler,
        "storage_url": storage,
        "database_url": None if db is None else f"sqlite:///{db.expanduser().resolve()}",
        "deployment": deployment,
    }
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(f"{log_level!r} is not a log level", param_hint="--log-level")
    settings = _settings({name: value for name, value in overrides.items() if value is not None})
    service.serve(settings, log_level=log_level.lower())


def _settings(overrides: dict[str, Any]) -> ExplorerSettings:
    from pydantic import ValidationError

    from nuage.explorer.settings import ExplorerSettings

    try:
        return ExplorerSettings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(f"invalid explorer settings ({problems})") from None
