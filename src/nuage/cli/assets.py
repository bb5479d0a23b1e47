"""`nuage dataset` and `nuage workerpool`: the other assets, registered on chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    StorageOption,
    WalletOption,
    out,
    print_json,
    settings,
    signer,
    storage_url,
    waiting,
)

dataset_app = typer.Typer(
    name="dataset",
    help="""Data that apps compute on, paid each time a deal uses it.

```
nuage dataset deploy prices.csv --as dataset-owner   # upload to storage, register on chain
nuage dataset show 0x…
```""",
    no_args_is_help=True,
)

workerpool_app = typer.Typer(
    name="workerpool",
    help="""A pool of workers selling computing power, run by its scheduler.

```
nuage workerpool create "my pool" --as pool-owner
nuage workerpool show 0x…
```""",
    no_args_is_help=True,
)


@dataset_app.command("deploy")
def deploy_dataset(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The data file.")],
    name: Annotated[
        str | None, typer.Option(help="Its name on chain [default: the file's name]")
    ] = None,
    storage: StorageOption = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload a data file to storage and register it as a dataset owned by the signer."""
    from nuage.network import connect
    from nuage.storage.client import StorageClient

    config = settings()
    contracts = connect(config, rpc)
    owner = signer(config, role, wallet)
    url = storage_url(config, storage)
    with waiting(f"uploading {file.name}…"), StorageClient(url) as client:
        checksum = client.put_file(file)
    label = name or file.name
    with waiting(f"registering {label} on chain…"):
        address, created = contracts.register_dataset(owner, label, bytes.fromhex(checksum))
    if as_json:
        print_json(
            {"address": address, "name": label, "sha256": checksum, "owner": owner.address,
             "created": created}
        )  # fmt: skip
        return
    verb = "deployed" if created else "already deployed"
    out.print(f"[green]✓[/] dataset {label} {verb}: {address}")
    out.print(f"  sha256 {checksum} in {url}; owner {owner.address}")


@dataset_app.command("show")
def show_dataset(
    address: Annotated[str, typer.Argument(help="The dataset's address.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a dataset's record on chain."""
    from nuage.network import connect

    record = connect(settings(), rpc).dataset(address)
    _show(
        {
            "address": record.address,
            "owner": record.owner,
            "name": record.name,
            "checksum": record.checksum.hex(),
            "multiaddr": record.multiaddr.decode(errors="replace"),
        },
        as_json,
    )


@workerpool_app.command("create")
def create_workerpool(
    description: Annotated[str, typer.Argument(help='What the pool is, e.g. "gpu pool eu".')],
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a workerpool owned by the signer (workers stake 30%, the scheduler keeps 1%)."""
    from nuage.network import connect

    config = settings()
    contracts = connect(config, rpc)
    owner = signer(config, role, wallet)
    with waiting("registering the workerpool…"):
        address, created = contracts.register_workerpool(owner, description)
    if as_json:
        print_json({"address": address, "owner": owner.address, "created": created})
        return
    verb = "created" if created else "already exists"
    out.print(f"[green]✓[/] workerpool {verb}: {address} (owner {owner.address})")
    out.print(f"  next: nuage scheduler serve --workerpool {address} --as pool-owner")


@workerpool_app.command("show")
def show_workerpool(
    address: Annotated[str, typer.Argument(help="The workerpool's address.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a workerpool's record on chain: owner, description, stake and reward ratios."""
    from nuage.network import connect

    record = connect(settings(), rpc).workerpool(address)
    _show(
        {
            "address": record.address,
            "owner": record.owner,
            "description": record.description,
            "worker_stake_ratio": record.worker_stake_ratio,
            "scheduler_reward_ratio": record.scheduler_reward_ratio,
        },
        as_json,
    )


def _show(fields: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(fields)
        return
    table = Table(box=None, show_header=False)
    for key, value in fields.items():
        table.add_row(key, str(value) if value not in ("", None) else "—")
    out.print(table)
