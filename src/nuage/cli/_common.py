"""What the `nuage` commands share: options, settings, output, the signer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console

from nuage.config import Settings
from nuage.protocol.amounts import parse_rlc
from nuage.wallet import resolve_signer, signer_address

ROLE_HELP = (
    "Sign as this devnet role: requester, app-owner, dataset-owner, pool-owner, "
    "worker-1…worker-N or deployer."
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AsOption = Annotated[str | None, typer.Option("--as", metavar="ROLE", help=ROLE_HELP)]
WalletOption = Annotated[
    str | None,
    typer.Option(
        "--wallet",
        "-w",
        metavar="NAME",
        help="Sign with this keystore (`nuage wallet list`); default $NUAGE_WALLET, "
        "or the only one there is.",
    ),
]
StorageOption = Annotated[
    str | None,
    typer.Option(
        "--storage",
        envvar="NUAGE_STORAGE_URL",
        metavar="URL",
        help="Storage service [default: the devnet's, else http://127.0.0.1:8701]",
    ),
]
RpcOption = Annotated[
    str | None,
    typer.Option(
        "--rpc",
        metavar="URL",
        help="JSON-RPC URL of the chain; default $NUAGE_RPC_URL, else the running devnet.",
    ),
]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def settings() -> Settings:
    return Settings()


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, sort_keys=False))


@contextmanager
def waiting(message: str) -> Iterator[None]:
    """A spinner on stderr while something waits (stdout stays clean for --json)."""
    with err.status(message):
        yield


def prompt_password(text: str) -> str:
    return str(typer.prompt(text, hide_input=True))


def signer(config: Settings, role: str | None, wallet: str | None) -> LocalAccount:
    return resolve_signer(config, role=role, wallet=wallet, password=prompt_password)


def address_of(config: Settings, role: str | None, wallet: str | None) -> str:
    return signer_address(config, role=role, wallet=wallet)


def amount(text: str) -> int:
    """An RLC amount argument, in nRLC; a usage error (exit 2) when it is not one."""
    try:
        return parse_rlc(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def storage_url(config: Settings, explicit: str | None) -> str:
    """The storage service to use: --storage / $NUAGE_STORAGE_URL, the devnet's, the default."""
    from nuage.network import service_url

    return service_url(config, "storage", explicit, "http://127.0.0.1:8701")
