"""`nuage account`: RLC in the hub, the balance deals are paid from and rewards go to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    WalletOption,
    address_of,
    amount,
    out,
    print_json,
    settings,
    signer,
    waiting,
)
from nuage.network import connect
from nuage.protocol.amounts import format_rlc

app = typer.Typer(
    name="account",
    help="""Your RLC in the hub: deals are paid from it, rewards are paid into it.

**free** RLC can be spent or withdrawn; **frozen** RLC is locked by open deals (a requester's
payment, a pool's or a worker's stake) until their tasks end.

```
nuage account deposit 10 --as requester    # wallet -> hub
nuage account show --as requester --json
nuage account withdraw 4 --as requester    # hub -> wallet
```""",
    no_args_is_help=True,
)

AmountArgument = Annotated[
    str, typer.Argument(metavar="AMOUNT", help="RLC, e.g. 10 or 0.5 (or nRLC: 500nRLC).")
]


@app.command()
def deposit(
    value: AmountArgument,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move RLC from your wallet into your hub account (one transaction)."""
    nrlc = amount(value)
    config = settings()
    contracts = connect(config, rpc)
    account = signer(config, role, wallet)
    with waiting(f"depositing {format_rlc(nrlc)} RLC…"):
        receipt = contracts.deposit(account, nrlc)
        balance = contracts.hub_account(account.address)
    _report(
        f"deposited {format_rlc(nrlc)} RLC",
        account.address,
        balance.free,
        balance.frozen,
        receipt["transactionHash"].to_0x_hex(),
        as_json,
    )


@app.command()
def withdraw(
    value: AmountArgument,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move free RLC from your hub account back to your wallet."""
    nrlc = amount(value)
    config = settings()
    contracts = connect(config, rpc)
    account = signer(config, role, wallet)
    with waiting(f"withdrawing {format_rlc(nrlc)} RLC…"):
        receipt = contracts.withdraw(account, nrlc)
        balance = contracts.hub_account(account.address)
    _report(
        f"withdrew {format_rlc(nrlc)} RLC",
        account.address,
        balance.free,
        balance.frozen,
        receipt["transactionHash"].to_0x_hex(),
        as_json,
    )


@app.command()
def show(
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show your RLC in the hub (free and frozen), your wallet's RLC and your score."""
    config = settings()
    address = address_of(config, role, wallet)
    contracts = connect(config, rpc)
    hub = contracts.hub_account(address)
    wallet_rlc = contracts.rlc_balance(address)
    if as_json:
        print_json(
            {
                "address": address,
                "free": format_rlc(hub.free),
                "frozen": format_rlc(hub.frozen),
                "free_nrlc": hub.free,
                "frozen_nrlc": hub.frozen,
                "wallet": format_rlc(wallet_rlc),
                "score": hub.score,
            }
        )
        return
    table = Table(title=f"hub account of {address}", title_justify="left", box=None)
    table.add_column("free RLC", justify="right")
    table.add_column("frozen RLC", justify="right")
    table.add_column("wallet RLC", justify="right")
    table.add_column("score", justify="right")
    table.add_row(
        format_rlc(hub.free), format_rlc(hub.frozen), format_rlc(wallet_rlc), str(hub.score)
    )
    out.print(table)


def _report(what: str, address: str, free: int, frozen: int, tx: str, as_json: bool) -> None:
    if as_json:
        print_json(
            {"address": address, "free": format_rlc(free), "frozen": format_rlc(frozen), "tx": tx}
        )
        return
    out.print(
        f"[green]✓[/] {what}: {address} now has {format_rlc(free)} RLC free"
        f" and {format_rlc(frozen)} frozen in the hub"
    )
    out.print(f"  transaction {tx}")
