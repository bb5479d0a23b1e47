"""`nuage devnet`: the whole network on this machine."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from nuage import devnet
from nuage.cli._common import JsonOption, err, out, print_json, settings, waiting

app = typer.Typer(
    name="devnet",
    help="""Run the whole network on this machine: a local chain with the contracts deployed
and funded accounts for every role.

```
nuage devnet up            # start it (anvil on 127.0.0.1:8545, contracts, accounts)
nuage devnet status        # what runs, where, and the accounts by role
nuage devnet down          # stop everything `up` started
```

Every other command finds the devnet by default: try
`nuage account deposit 10 --as requester`.""",
    no_args_is_help=True,
)


@app.command()
def up(
    port: Annotated[
        int | None,
        typer.Option(help="Port of the chain's JSON-RPC on 127.0.0.1 [default: 8545 if free]"),
    ] = None,
    block_time: Annotated[
        int | None,
        typer.Option(
            "--block-time",
            metavar="SECONDS",
            min=1,
            help="Mine a block every SECONDS, like a real chain [default: a block per "
            "transaction, at once]",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Workers in the devnet pool (one process each).")
    ] = 3,
    storage_port: Annotated[
        int | None,
        typer.Option(help="Port of the storage service [default: 8701 if free]"),
    ] = None,
    market_port: Annotated[
        int | None,
        typer.Option(help="Port of the market (order book) service [default: 8702 if free]"),
    ] = None,
    scheduler_port: Annotated[
        int | None,
        typer.Option(help="Port of the devnet pool's scheduler [default: 8703 if free]"),
    ] = None,
    explorer_port: Annotated[
        int | None,
        typer.Option(help="Port of the web explorer and DApp Store [default: 8704 if free]"),
    ] = None,
    pool: Annotated[
        bool,
        typer.Option(
            "--pool/--no-pool",
            help="Run the devnet pool (scheduler and workers); --no-pool only funds the worker "
            "accounts, for running your own.",
        ),
    ] = True,
    explorer: Annotated[
        bool,
        typer.Option(
            "--explorer/--no-explorer",
            help="Run the web explorer and DApp Store (it indexes the chain as it grows).",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Start the devnet: anvil, the contracts, funded accounts, storage, market, a workerpool,
    the web explorer.

    The pool's scheduler sells tasks at 1 RLC (up to trust 100) on the market and its workers
    (one process each) run them in the sandbox.

    The state is written to $NUAGE_HOME/devnet (default ~/.nuage/devnet). Running `up` while
    a devnet runs says so and changes nothing.
    """
    config = settings()
    started = time.monotonic()
    try:
        with waiting("starting the devnet…"):
            state = devnet.up(
                config,
                port=port,
                block_time=block_time,
                workers=workers,
                storage_port=storage_port,
                market_port=market_port,
                scheduler_port=scheduler_port,
                explorer_port=explorer_port,
                pool=pool,
                explorer=explorer,
                progress=lambda step: err.print(f"  {step}…"),
            )
    except devnet.DevnetAlreadyUp as already:
        if as_json:
            print_json(devnet.status(config).as_dict() | {"already_up": True})
        else:
            out.print(f"[yellow]●[/] {already}")
        return
    if as_json:
        print_json(devnet.status(config).as_dict())
        return
    out.print(
        f"[green]✓[/] devnet up in {time.monotonic() - started:.1f} s: chain {state.chain_id} "
        f"at {state.rpc_url}"
        + (f", a block every {state.block_time:g} s" if state.block_time else "")
    )
    out.print(_services_table(state))
    out.print(_accounts_table(state))
    if "explorer" in state.services:
        out.print(f"Explorer and DApp Store: [bold]{state.services['explorer']}[/]")
    out.print(
        "Next: `nuage account deposit 10 --as requester`, `nuage devnet status`, "
        "`nuage devnet down`."
    )


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Say whether the devnet runs, with its chain, processes, contracts and accounts."""
    report = devnet.status(settings())
    if as_json:
        print_json(report.as_dict())
        return
    state = report.state
    if state is None:
        out.print("[dim]○[/] no devnet: `nuage devnet up` starts one")
        raise typer.Exit(0)
    mark = "[green]●[/] up" if report.up else "[red]●[/] partly down"
    block = "?" if report.block is None else report.block
    out.print(f"{mark}: chain {state.chain_id} at {state.rpc_url}, block {block}")
    for daemon in state.daemons:
        running = "running" if report.running[daemon.name] else "[red]stopped[/]"
        out.print(f"  {daemon.name}: pid {daemon.pid}, {running}, log {daemon.log}")
    contracts = Table(title="contracts", title_justify="left", box=None)
    contracts.add_column("contract")
    contracts.add_column("address")
    for name, address in state.deployment.as_dict().items():
        if name not in ("chain_id", "block"):
            contracts.add_row(name, str(address))
    out.print(contracts)
    out.print(_services_table(state))
    out.print(_accounts_table(state))
    if not report.up:
        out.print("`nuage devnet down` clears what is left, then `nuage devnet up` restarts.")


@app.command()
def down() -> None:
    """Stop every process the devnet started and forget its state."""
    config = settings()
    if devnet.load_state(config) is None:
        out.print("[dim]○[/] no devnet was up")
        return
    with waiting("stopping the devnet…"):
        stopped = devnet.down(config)
    out.print(f"[green]✓[/] devnet down (stopped: {', '.join(stopped) or 'nothing was running'})")


def _services_table(state: devnet.DevnetState) -> Table:
    table = Table(title="services", title_justify="left", box=None)
    table.add_column("service")
    table.add_column("URL")
    for name, url in state.services.items():
        table.add_row(name, url)
    return table


def _accounts_table(state: devnet.DevnetState) -> Table:
    table = Table(title="accounts (use with --as ROLE)", title_justify="left", box=None)
    table.add_column("role")
    table.add_column("address")
    for role, entry in state.accounts.items():
        table.add_row(role, entry["address"])
    return table
