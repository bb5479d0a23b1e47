"""The ``nuage`` Typer application.

Each command reads its arguments, calls the library, and prints the result with Rich (or JSON with
``--json``). Errors the user can fix arrive as ``NuageError`` and become a one-line message and
exit status 1, never a traceback.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

import nuage
from nuage.cli import (
    account,
    apps,
    assets,
    devnet,
    explorer,
    market,
    order,
    orderbook,
    run,
    scheduler,
    storage,
    tasks,
    trust,
    wallet,
    worker,
)
from nuage.exceptions import ContractRevert, NuageError, OrderIncompatible

HELP = """\
**nuage**: a decentralized cloud, a marketplace of computing power settled on an EVM chain.

Requesters buy executions of apps (on optional datasets) from workerpools, whose workers sell
their computing power; app and dataset owners are paid each time their asset is used. Everyone
signs orders off chain; the nuage contracts match them into deals and hold the money (RLC) in
escrow until the work is done.
"""

EPILOG = """\
Start here: `nuage devnet up`, then `nuage run factorial 10 --as requester --deposit`.
"""


class _Group(TyperGroup):
    """Turns a ``NuageError`` from any command into a message for a person."""

    # `Any`: the context class is click's, or the copy of click that recent typer versions vendor
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NuageError as error:
            _print_error(error)
            raise typer.Exit(1) from None


def _print_error(error: NuageError) -> None:
    console = Console(stderr=True, highlight=False)
    if isinstance(error, OrderIncompatible) and len(error.reasons) > 1:
        console.print("[bold red]error:[/] the orders do not match:")
        for reason in error.reasons:
            console.print(f"  - {escape(reason)}")
        return
    console.print(f"[bold red]error:[/] {escape(str(error))}")
    if isinstance(error, ContractRevert) and error.reason not in str(error):
        console.print(f"  reason: {escape(error.reason)}")


app = typer.Typer(
    name="nuage",
    cls=_Group,
    help=HELP,
    epilog=EPILOG,
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # a traceback's locals could show private keys
    pretty_exceptions_show_locals=False,
)


app.add_typer(devnet.app, rich_help_panel="Try it")
app.add_typer(wallet.app, rich_help_panel="Your keys and money")
app.add_typer(account.app, rich_help_panel="Your keys and money")
app.add_typer(apps.app, rich_help_panel="Apps and data")
app.add_typer(assets.dataset_app, rich_help_panel="Apps and data")
app.add_typer(assets.workerpool_app, rich_help_panel="Sell computing power")
app.add_typer(order.app, rich_help_panel="Orders")
app.add_typer(orderbook.app, rich_help_panel="Orders")
app.command(name="run", rich_help_panel="Try it")(run.run)
apps.app.command(name="run")(run.run)  # `nuage app run`, the same
app.add_typer(tasks.deal_app, rich_help_panel="Follow work")
app.add_typer(tasks.task_app, rich_help_panel="Follow work")
app.add_typer(trust.app, rich_help_panel="Follow work")
app.add_typer(storage.app, rich_help_panel="Services")
app.add_typer(market.app, rich_help_panel="Services")
app.add_typer(explorer.app, rich_help_panel="Services")
app.add_typer(scheduler.app, rich_help_panel="Sell computing power")
app.add_typer(worker.app, rich_help_panel="Sell computing power")


@app.command(rich_help_panel="Try it")
def demo() -> None:
    """The whole network on this machine, doing real work: factorial, sudoku, a word cloud.

    Starts the devnet if it is not up (chain, contracts, storage, market, a pool with 3
    sandboxed workers), deploys and publishes the example apps, then runs each through the
    market, the chain, the pool and a worker's sandbox, and prints what came back. The devnet
    keeps running afterwards: `nuage devnet down` stops it.
    """
    from nuage.demo import run_demo  # imports the chain stack: only when asked

    raise typer.Exit(run_demo(Console()))


@app.command(rich_help_panel="About")
def version(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the versions of nuage, Python and the Vyper compiler."""
    versions = {
        "nuage": nuage.__version__,
        "python": platform.python_version(),
        "vyper": _installed("vyper"),
    }
    if as_json:
        typer.echo(json.dumps(versions))
        return
    Console().print(
        f"nuage {versions['nuage']} (python {versions['python']}, vyper {versions['vyper']})",
        highlight=False,
    )


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    """Console-script entry point."""
    app()
