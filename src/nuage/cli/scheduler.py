"""``nuage scheduler``: run a workerpool's scheduler, and ask one how it is doing.

The service stack (FastAPI, uvicorn, SQLAlchemy, web3) is imported inside the commands, so that
loading the ``nuage`` command stays fast.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from nuage.cli._common import AsOption, RpcOption, WalletOption, settings, signer
from nuage.exceptions import ConfigError

__all__ = ["app"]

DEFAULT_URL = "http://127.0.0.1:8703"

app = typer.Typer(
    name="scheduler",
    help="""A workerpool's scheduler: hands its workers the tasks of the deals the pool makes.

It holds the pool owner's key, follows the chain for the pool's deals, initializes their tasks,
hands replicates to the workers that ask (as many as the consensus needs), tells the winners to
reveal and one of them to upload the result, then finalizes: the pool is paid.

```
nuage scheduler serve --workerpool 0x… --as pool-owner    # on 127.0.0.1:8703
nuage scheduler status                                      # its health and its tasks
```""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)

_Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="NUAGE_SCHEDULER_URL",
        help=f"The scheduler [default: the devnet's, else {DEFAULT_URL}].",
    ),
]


@app.command()
def serve(
    workerpool: Annotated[
        str,
        typer.Option(
            "--workerpool",
            envvar="NUAGE_SCHEDULER_WORKERPOOL",
            help="The workerpool to serve (its address); the signer must own it.",
        ),
    ],
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port [default: 8703].", min=0, max=65535)
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="sqlite:///PATH or postgresql+psycopg://… [default: "
            "sqlite:///$NUAGE_HOME/scheduler/<chain>/<workerpool>.db].",
            show_default=False,
        ),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            metavar="URL",
            help="Storage the workers upload results to [default: $NUAGE_STORAGE_URL, the "
            "devnet's, else http://127.0.0.1:8701].",
        ),
    ] = None,
    heartbeat_timeout: Annotated[
        float | None, typer.Option(help="Seconds of silence before a worker is lost [30].")
    ] = None,
    contribution_timeout: Annotated[
        float | None,
        typer.Option(help="Seconds a replicate may take before it goes to another worker [2T+60]."),
    ] = None,
    tx_retry_after: Annotated[
        float | None, typer.Option(help="Seconds before an unconfirmed transaction is resent [60].")
    ] = None,
    price: Annotated[
        str | None,
        typer.Option(
            help="Sell tasks at this price (RLC per task, or 500nRLC): keeps an order of the "
            "pool open on the market. Without it, nothing is published.",
            rich_help_panel="Offer",
        ),
    ] = None,
    volume: Annotated[
        int, typer.Option(help="Tasks per published order.", min=1, rich_help_panel="Offer")
    ] = 100,
    category: Annotated[
        int, typer.Option(help="Category (0 = XS …).", min=0, rich_help_panel="Offer")
    ] = 0,
    trust: Annotated[
        int, typer.Option(help="Highest trust offered.", min=0, rich_help_panel="Offer")
    ] = 0,
    tag: Annotated[
        str,
        typer.Option(
            help="What the pool offers: gpu, tee (comma-separated).", rich_help_panel="Offer"
        ),
    ] = "",
    market: Annotated[
        str | None,
        typer.Option(
            "--market",
            metavar="URL",
            help="The market to publish on [default: the devnet's, else http://127.0.0.1:8702].",
            rich_help_panel="Offer",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
) -> None:
    """Run the scheduler in the foreground until Ctrl-C; logs go to stderr.

    Example: `nuage scheduler serve --workerpool 0x… --as pool-owner --price 2 --trust 100`

    Options not given come from `NUAGE_SCHEDULER_*` environment variables, then the defaults.
    Its state is saved in its database: stopped and started again, it carries on where it was.
    Workers log in with their wallet (`nuage worker start --scheduler URL`).
    """
    from nuage.cli._common import amount, storage_url
    from nuage.network import service_url
    from nuage.scheduler.server import serve as run

    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(f"{log_level!r} is not a log level", param_hint="--log-level")
    config = settings()
    overrides: dict[str, Any] = {
        "workerpool": workerpool,
        "host": host,
        "port": port,
        "database_url": database_url,
        "rpc_url": rpc,
        "storage_url": storage_url(config, storage),
        "heartbeat_timeout": heartbeat_timeout,
        "contribution_timeout": contribution_timeout,
        "tx_retry_after": tx_retry_after,
    }
    if price is not None:
        overrides |= {
            "offer_price": amount(price),
            "offer_volume": volume,
            "offer_category": category,
            "offer_trust": trust,
            "offer_tag": tag,
            "market_url": service_url(config, "market", market, "http://127.0.0.1:8702"),
        }
    scheduler_settings = _settings({k: v for k, v in overrides.items() if v is not None})
    run(scheduler_settings, signer(config, role, wallet), log_level=log_level.lower())


@app.command()
def status(url: _Url = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a scheduler's health: its pool, the chain, its tasks by phase, its workers.

    Example: `nuage scheduler status --url http://127.0.0.1:8703`
    """
    import httpx

    from nuage.network import service_url

    where = service_url(settings(), "scheduler", url, DEFAULT_URL)
    try:
        health = httpx.get(f"{where}/health", timeout=10).json()
    except (httpx.HTTPError, ValueError) as error:
        raise ConfigError(f"the scheduler at {where} does not answer ({error})") from None
    if as_json:
        typer.echo(json.dumps(health, indent=2))
        return
    summary = health.get("summary", {})
    tasks = ", ".join(f"{n} {phase}" for phase, n in summary.get("tasks", {}).items()) or "none"
    workers = summary.get("workers", {})
    typer.echo(f"scheduler {where}: {health.get('status')}")
    typer.echo(f"  workerpool {health.get('workerpool')} on chain {health.get('chain_id')}")
    typer.echo(f"  chain watcher: {health.get('watcher')} (block {health.get('block')})")
    typer.echo(f"  deals: {summary.get('deals', 0)}; tasks: {tasks}")
    typer.echo(f"  workers: {workers.get('alive', 0)} alive, {workers.get('lost', 0)} lost")


def _settings(overrides: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from nuage.scheduler.server import SchedulerSettings

    try:
        return SchedulerSettings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(f"invalid scheduler settings ({problems})") from None
