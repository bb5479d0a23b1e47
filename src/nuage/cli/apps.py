"""`nuage app`: make an app, pack it, put it on the network."""

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
    amount,
    out,
    print_json,
    settings,
    signer,
    storage_url,
    waiting,
)

app = typer.Typer(
    name="app",
    help="""Make an app, pack it into a bundle, and put it on the network.

An app is a directory with a `nuage-app.toml` manifest (name, entrypoint, Python requirements)
and its files. `build` packs it into the same bytes on any machine; its sha256 is its checksum
on chain and its id in storage.

```
nuage app init hello                 # scaffold hello/ (manifest + main.py)
nuage app build hello                # pack hello/dist/hello.zip, print its sha256
nuage app deploy hello --as app-owner
nuage app show 0x…                   # the app's record on chain
```""",
    no_args_is_help=True,
)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="The app's name: lowercase, digits, - or _.")],
    directory: Annotated[
        Path | None, typer.Argument(help="Where to create it [default: ./NAME]")
    ] = None,
) -> None:
    """Scaffold an app: a manifest and a main.py that writes its result the nuage way."""
    from nuage.apps import init as scaffold

    target = directory or Path(name)
    manifest = scaffold(target, name)
    out.print(f"[green]✓[/] app {name} in {target}/: edit {manifest.name} and main.py, then")
    out.print(f"  nuage app build {target}    and    nuage app deploy {target} --as app-owner")


@app.command()
def build(
    directory: Annotated[Path, typer.Argument(help="The app's directory.")] = Path("."),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="[default: DIRECTORY/dist/NAME.zip]")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Pack an app into a deterministic bundle, vendoring its Python requirements."""
    from nuage.apps import build as pack

    with waiting(f"building {directory}…"):
        bundle = pack(directory, output)
    if as_json:
        print_json(
            {
                "name": bundle.manifest.name,
                "path": str(bundle.path),
                "sha256": bundle.sha256,
                "size": bundle.size,
            }
        )
        return
    out.print(f"[green]✓[/] {bundle.path} ({bundle.size:,} bytes)")
    out.print(f"  sha256 {bundle.sha256}")


@app.command()
def deploy(
    source: Annotated[
        Path, typer.Argument(help="The app's directory (built first) or a bundle .zip.")
    ] = Path("."),
    storage: StorageOption = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload an app's bundle to storage and register the app on chain (owned by the signer).

    Deploying the same bundle again changes nothing and prints the same address.
    """
    from nuage.apps import BundleError, unpack
    from nuage.apps import build as pack
    from nuage.network import connect
    from nuage.storage.client import StorageClient, sha256_file

    config = settings()
    contracts = connect(config, rpc)
    owner = signer(config, role, wallet)
    if source.is_dir():
        with waiting(f"building {source}…"):
            bundle = pack(source)
        path, name, checksum = bundle.path, bundle.manifest.name, bundle.sha256
    elif source.is_file():
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            name = unpack(source, Path(scratch)).name
        path, checksum = source, sha256_file(source)
    else:
        raise BundleError(f"{source} is neither an app directory nor a bundle")
    url = storage_url(config, storage)
    with waiting(f"uploading {path.name} to {url}…"), StorageClient(url) as client:
        client.put_file(path)
    with waiting(f"registering {name} on chain…"):
        address, created = contracts.register_app(owner, name, bytes.fromhex(checksum))
    if as_json:
        print_json(
            {"address": address, "name": name, "sha256": checksum, "owner": owner.address,
             "created": created}
        )  # fmt: skip
        return
    verb = "deployed" if created else "already deployed"
    out.print(f"[green]✓[/] {name} {verb}: app {address}")
    out.print(f"  bundle sha256 {checksum} in {url}; owner {owner.address}")


@app.command()
def publish(
    address: Annotated[str, typer.Argument(help="The app's address or name.")],
    price: Annotated[str, typer.Option(help="RLC per execution (or 500nRLC).")] = "0",
    volume: Annotated[int, typer.Option(min=1, help="Executions this order sells.")] = 1000,
    tag: Annotated[str, typer.Option(help="What the app needs: gpu, tee (comma-separated).")] = "",
    restrict_dataset: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only with this dataset.")
    ] = None,
    restrict_workerpool: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only on this workerpool.")
    ] = None,
    restrict_requester: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only for this requester.")
    ] = None,
    market: Annotated[
        str | None, typer.Option("--market", metavar="URL", help="[default: the devnet's]")
    ] = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign an app order (price, volume, restrictions) and publish it on the market.

    Example: `nuage app publish factorial --price 0.5 --volume 1000 --as app-owner`
    """
    import os

    from nuage.cli.order import _print_record, _tag, market_client
    from nuage.client import Client
    from nuage.protocol.orders import ZERO_ADDRESS, AppOrder

    config = settings()
    owner = signer(config, role, wallet)
    client = Client(owner, settings=config, rpc=rpc, market=market)
    app_address = client.find_app(address)
    order = AppOrder(
        app=app_address,
        appprice=amount(price),
        volume=volume,
        tag=_tag(tag),
        datasetrestrict=restrict_dataset or ZERO_ADDRESS,
        workerpoolrestrict=restrict_workerpool or ZERO_ADDRESS,
        requesterrestrict=restrict_requester or ZERO_ADDRESS,
        salt=os.urandom(32),
    )
    with market_client(config, market) as book, waiting("publishing…"):
        record = book.publish(order.signed(owner.key, book.domain()))
    _print_record(record, as_json, "published")


@app.command()
def show(
    address: Annotated[str, typer.Argument(help="The app's address.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an app's record on chain: owner, name, type, checksum."""
    from nuage.network import connect

    record = connect(settings(), rpc).app(address)
    fields = {
        "address": record.address,
        "owner": record.owner,
        "name": record.name,
        "type": "DOCKER" if record.app_type == 1 else "BUNDLE",
        "checksum": record.checksum.hex(),
        "multiaddr": record.multiaddr.decode(errors="replace"),
        "mrenclave": record.mrenclave.hex(),
    }
    if as_json:
        print_json(fields)
        return
    table = Table(box=None, show_header=False)
    for key, value in fields.items():
        table.add_row(key, value or "—")
    out.print(table)
