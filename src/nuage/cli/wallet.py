"""`nuage wallet`: keys, in encrypted keystores, and sending RLC."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from web3 import Web3

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    WalletOption,
    address_of,
    amount,
    out,
    print_json,
    prompt_password,
    settings,
    signer,
    waiting,
)
from nuage.config import Settings
from nuage.devnet import load_state, normalize_role
from nuage.exceptions import ConfigError, NuageError, WalletError
from nuage.network import connect
from nuage.protocol.amounts import format_rlc
from nuage.wallet import Keystores

app = typer.Typer(
    name="wallet",
    help="""Your keys, in standard encrypted Ethereum keystores ($NUAGE_HOME/keystores).

```
nuage wallet create alice            # a new key; asks for a password
nuage wallet import alice            # an existing key (asked for, never an argument)
nuage wallet show --as requester     # address and balances of a devnet role
nuage wallet send-rlc 5 pool-owner --as requester
```

The password comes from $NUAGE_PASSWORD when set, else from a prompt.""",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The wallet's name, e.g. alice.")]


@app.command()
def create(name: NameArgument, as_json: JsonOption = False) -> None:
    """Create a new key, saved encrypted under NAME."""
    keystores = Keystores(settings().keystores_dir)
    keystores.path(name)  # a bad name fails before the password is asked
    password = _new_password()
    address = keystores.create(name, password)
    _report_saved(name, address, keystores.path(name), as_json)


@app.command(name="import")
def import_(
    name: NameArgument,
    keystore: Annotated[
        Path | None,
        typer.Option(
            "--keystore",
            exists=True,
            dir_okay=False,
            help="Import this keystore file (geth, Foundry…) as it is, instead of a private key.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import a private key (asked for, or read from $NUAGE_PRIVATE_KEY) or a keystore file."""
    keystores = Keystores(settings().keystores_dir)
    keystores.path(name)
    if keystore is not None:
        address = keystores.import_file(name, keystore)
    else:
        key = os.environ.get("NUAGE_PRIVATE_KEY") or str(
            typer.prompt("private key (hex)", hide_input=True)
        )
        address = keystores.import_key(name, key, _new_password())
    _report_saved(name, address, keystores.path(name), as_json)


@app.command(name="list")
def list_(as_json: JsonOption = False) -> None:
    """List the wallets in $NUAGE_HOME/keystores."""
    keystores = Keystores(settings().keystores_dir)
    wallets = {name: keystores.address(name) for name in keystores.names()}
    if as_json:
        print_json(wallets)
        return
    if not wallets:
        out.print("no wallets yet: `nuage wallet create NAME` makes one")
        return
    for name, address in wallets.items():
        out.print(f"{name}  {address}")


@app.command()
def show(
    name: Annotated[
        str | None, typer.Argument(help="A wallet name [default: --as/--wallet]")
    ] = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an account's address and balances: ETH (gas), RLC in the wallet and in the hub.

    Needs no password: only the address is read from the keystore.
    """
    config = settings()
    address = address_of(config, role, name or wallet)
    report: dict[str, Any] = {"address": address}
    try:
        contracts = connect(config, rpc)
    except NuageError as error:
        if as_json:
            print_json(report | {"chain": None, "error": str(error)})
        else:
            out.print(f"address  {address}")
            out.print(f"[yellow]balances unavailable:[/] {error}")
        return
    with waiting("reading balances…"):
        hub = contracts.hub_account(address)
        report |= {
            "chain_id": contracts.chain.chain_id,
            "eth_wei": contracts.chain.eth_balance(address),
            "rlc": format_rlc(contracts.rlc_balance(address)),
            "hub": {"free": format_rlc(hub.free), "frozen": format_rlc(hub.frozen)},
            "score": hub.score,
        }
    if as_json:
        print_json(report)
        return
    table = Table(box=None, show_header=False)
    table.add_row("address", address)
    table.add_row("ETH", f"{Web3.from_wei(report['eth_wei'], 'ether'):f}")
    table.add_row("RLC (wallet)", report["rlc"])
    table.add_row("RLC (hub, free)", report["hub"]["free"])
    table.add_row("RLC (hub, frozen)", report["hub"]["frozen"])
    table.add_row("score", str(hub.score))
    out.print(table)


@app.command(name="send-rlc")
def send_rlc(
    value: Annotated[str, typer.Argument(metavar="AMOUNT", help="RLC to send, e.g. 5 or 0.5.")],
    to: Annotated[
        str,
        typer.Argument(metavar="TO", help="An address, a devnet role or a wallet name."),
    ],
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send RLC from one wallet to another (wallet to wallet, not into the hub)."""
    nrlc = amount(value)
    config = settings()
    receiver = _receiver(config, to)
    contracts = connect(config, rpc)
    sender = signer(config, role, wallet)
    with waiting(f"sending {format_rlc(nrlc)} RLC to {receiver}…"):
        receipt = contracts.transfer_rlc(sender, receiver, nrlc)
    tx = receipt["transactionHash"].to_0x_hex()
    if as_json:
        print_json({"from": sender.address, "to": receiver, "rlc": format_rlc(nrlc), "tx": tx})
        return
    out.print(f"[green]✓[/] sent {format_rlc(nrlc)} RLC from {sender.address} to {receiver}")
    out.print(f"  transaction {tx}")


def _receiver(config: Settings, to: str) -> str:
    if Web3.is_address(to):
        return str(Web3.to_checksum_address(to))
    state = load_state(config)
    if state is not None and normalize_role(to) in state.accounts:
        return state.accounts[normalize_role(to)]["address"]
    keystores = Keystores(config.keystores_dir)
    try:
        if keystores.exists(to):
            return keystores.address(to)
    except WalletError:
        pass
    raise ConfigError(
        f"{to!r} is not an address, a devnet role or a wallet name: "
        "give a 0x… address, a role like pool-owner, or a name from `nuage wallet list`"
    )


def _new_password() -> str:
    from_env = os.environ.get("NUAGE_PASSWORD")
    if from_env is not None:
        return from_env
    first = prompt_password("password for the new wallet")
    if prompt_password("the same password again") != first:
        raise WalletError("the two passwords differ: nothing was saved, try again")
    return first


def _report_saved(name: str, address: str, path: Path, as_json: bool) -> None:
    if as_json:
        print_json({"name": name, "address": address, "keystore": str(path)})
        return
    out.print(f"[green]✓[/] wallet {name}: {address}")
    out.print(f"  keystore {path} (keep a copy and its password: nothing else recovers the key)")
