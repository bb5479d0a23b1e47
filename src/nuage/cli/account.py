"""`nuage account`: RLC in the hub, the balance deals are paid from and rewards go to."""

from __future__ import annotations

from typing import Annotated, Literal

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
    _move("deposit", value, role, wallet, rpc, as_json)


@app.command()
def withdraw(
    value: AmountArgument,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move free RLC from your hub account back to your wallet."""
    _move("withdraw", value, role, wallet, rpc, as_json)


def _move(
    way: Literal["deposit", "withdraw"],
    value: str,
    role: str | None,
    wallet: str | None,
    rpc: str | None,
    as_json: bool,
) -> None:
    nrlc = amount(value)
    config = settings()
    contracts = connect(config, rpc)
    account = signer(config, role, wallet)
    moving, moved = ("depositing", "deposited") if way == "deposit" else ("withdrawing", "withdrew")
    with waiting(f"{moving} {format_rlc(nrlc)} RLC…"):
        send = contracts.deposit if way == "deposit" else contracts.withdraw
        tx = send(account, nrlc)["transactionHash"].to_0x_hex()
        balance = contracts.hub_account(account.address)
    if as_json:
        print_json(
            {
                "address": account.address,
                "free": format_rlc(balance.free),
                "frozen": format_rlc(balance.frozen),
                "tx": tx,
            }
        )
        return
    out.print(
        f"[green]✓[/] {moved} {format_rlc(nrlc)} RLC: {account.address} now has "
        f"{format_rlc(balance.free)} RLC free and {format_rlc(balance.frozen)} frozen in the hub"
    )
    out.print(f"  transaction {tx}")


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
