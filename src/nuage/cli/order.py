"""`nuage order`: write, sign, publish, unpublish, cancel, show and explain one order.

An order file is JSON: ``{"kind": "app", "order": {…the order's fields…, "sign": "0x…"}}``.
The market and chain stacks are imported inside the commands, so `nuage` starts fast.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    WalletOption,
    address_of,
    amount,
    err,
    out,
    print_json,
    settings,
    signer,
    waiting,
)
from nuage.exceptions import ConfigError, OrderError
from nuage.protocol import tags
from nuage.protocol.amounts import format_rlc
from nuage.protocol.orders import ZERO_ADDRESS

if TYPE_CHECKING:
    from nuage.config import Settings
    from nuage.market.client import MarketClient
    from nuage.market.models import ExplainAnswer, OrderRecord
    from nuage.market.wire import OrderKind
    from nuage.protocol.orders import Order

__all__ = ["app", "market_client", "market_url"]

DEFAULT_MARKET_URL = "http://127.0.0.1:8702"  # nuage.market.DEFAULT_MARKET_URL, not imported
KINDS = ("app", "dataset", "workerpool", "request")

app = typer.Typer(
    name="order",
    help="""Write, sign and publish orders; take them back; see where they stand.

```
nuage order init workerpool 0xPOOL --price 1 --volume 10 --category 0 -o pool.json
nuage order publish pool.json --as pool-owner       # signs it, then publishes it
nuage order show 0xHASH                             # status and remaining volume
nuage order init request 0xAPP --pool-max-price 1 --as requester -o request.json
nuage order explain request.json                    # the best offers, or why none fits
nuage order unpublish 0xHASH --as pool-owner        # out of the book (still valid on chain)
nuage order cancel pool.json --as pool-owner        # void on chain, for good
```

The market is --market, else $NUAGE_MARKET_URL, else the devnet's, else
http://127.0.0.1:8702.""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)

MarketOption = Annotated[
    str | None,
    typer.Option(
        "--market",
        envvar="NUAGE_MARKET_URL",
        metavar="URL",
        help="The market service [default: the devnet's, else " + DEFAULT_MARKET_URL + "]",
    ),
]
OrderFile = Annotated[
    Path,
    typer.Argument(help="An order file (`nuage order init`).", exists=True, dir_okay=False),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write the order here [default: print it].", dir_okay=False
    ),
]


def market_url(config: Settings, explicit: str | None) -> str:
    from nuage.network import service_url

    return service_url(config, "market", explicit, DEFAULT_MARKET_URL)


def market_client(config: Settings, explicit: str | None) -> MarketClient:
    from nuage.market.client import MarketClient

    return MarketClient(market_url(config, explicit))


@app.command()
def init(
    kind: Annotated[str, typer.Argument(help="app, dataset, workerpool or request.")],
    asset: Annotated[
        str, typer.Argument(help="The app, dataset or workerpool; for a request, the app.")
    ],
    price: Annotated[
        str, typer.Option(help="An offer's price per task, in RLC (or 500nRLC).")
    ] = "0",
    volume: Annotated[int, typer.Option(help="How many tasks.", min=1)] = 1,
    category: Annotated[int, typer.Option(help="Workerpool and request orders.", min=0)] = 0,
    trust: Annotated[int, typer.Option(help="Workerpool and request orders.", min=0)] = 0,
    tag: Annotated[str, typer.Option(help="What it needs or offers: gpu, tee, or both.")] = "",
    dataset: Annotated[str | None, typer.Option(help="A request's dataset.")] = None,
    workerpool: Annotated[str | None, typer.Option(help="A request's workerpool.")] = None,
    app_max_price: Annotated[str, typer.Option(help="A request's app price, RLC.")] = "0",
    dataset_max_price: Annotated[str, typer.Option(help="A request's dataset price.")] = "0",
    pool_max_price: Annotated[str, typer.Option(help="A request's workerpool price.")] = "0",
    requester: Annotated[
        str | None, typer.Option(help="A request's requester [default: who --as/--wallet is].")
    ] = None,
    params: Annotated[str, typer.Option(help="A request's params (JSON text).")] = "",
    beneficiary: Annotated[
        str | None, typer.Option(help="Who may read a request's results.")
    ] = None,
    callback: Annotated[
        str | None, typer.Option(help="A contract to call with each result.")
    ] = None,
    restrict_app: Annotated[str | None, typer.Option(help="Only this app may use it.")] = None,
    restrict_dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    restrict_workerpool: Annotated[str | None, typer.Option(help="Only this workerpool.")] = None,
    restrict_requester: Annotated[str | None, typer.Option(help="Only this requester.")] = None,
    output: OutputOption = None,
    as_role: AsOption = None,
    wallet: WalletOption = None,
) -> None:
    """Write an unsigned order (a fresh random salt makes it unique).

    Example: `nuage order init app 0xAPP --price 0.5 --volume 100 -o app.json`
    """
    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not a kind of order: {', '.join(KINDS)}")
    fields: dict[str, Any] = {"volume": volume, "tag": "0x" + _tag(tag).hex()}
    fields["salt"] = "0x" + secrets.token_bytes(32).hex()
    restrictions = {
        "apprestrict": restrict_app,
        "datasetrestrict": restrict_dataset,
        "workerpoolrestrict": restrict_workerpool,
        "requesterrestrict": restrict_requester,
    }
    if kind == "request":
        who = requester or (address_of(settings(), as_role, wallet) if as_role or wallet else None)
        if who is None:
            raise typer.BadParameter("a request needs --requester, or --as / --wallet")
        fields |= {
            "app": asset,
            "requester": who,
            "dataset": dataset or ZERO_ADDRESS,
            "workerpool": workerpool or ZERO_ADDRESS,
            "appmaxprice": amount(app_max_price),
            "datasetmaxprice": amount(dataset_max_price),
            "workerpoolmaxprice": amount(pool_max_price),
            "category": category,
            "trust": trust,
            "beneficiary": beneficiary or ZERO_ADDRESS,
            "callback": callback or ZERO_ADDRESS,
            "params": params,
        }
    else:
        fields |= {kind: asset, f"{kind}price": amount(price)}
        if kind == "workerpool":
            fields |= {"category": category, "trust": trust}
        fields |= {
            name: value or ZERO_ADDRESS
            for name, value in restrictions.items()
            if not name.startswith(kind)
        }
    order = _parse(kind, fields)
    _write(kind, order, output)


@app.command()
def sign(
    file: OrderFile,
    output: OutputOption = None,
    as_role: AsOption = None,
    wallet: WalletOption = None,
    market: MarketOption = None,
) -> None:
    """Sign an order in the market's EIP-712 domain (the order file is rewritten).

    Example: `nuage order sign app.json --as app-owner`
    """
    config = settings()
    kind, order = _read(file)
    account = signer(config, as_role, wallet)
    with market_client(config, market) as client:
        signed = order.signed(account.key, client.domain())
    _write(kind, signed, output or file)
    err.print(f"signed by {account.address}")


@app.command()
def publish(
    file: OrderFile,
    as_role: AsOption = None,
    wallet: WalletOption = None,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish an order; with --as / --wallet, sign it first.

    Example: `nuage order publish pool.json --as pool-owner`

    An unsigned order is accepted only when its owner presigned it on chain.
    """
    config = settings()
    _, order = _read(file)
    with market_client(config, market) as client:
        if as_role or wallet:
            order = order.signed(signer(config, as_role, wallet).key, client.domain())
        with waiting("publishing…"):
            record = client.publish(order)
    _print_record(record, as_json, "published")


@app.command()
def unpublish(
    order_hash: Annotated[
        str | None, typer.Argument(metavar="HASH", help="The order's hash.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every order of the signer.")] = False,
    as_role: AsOption = None,
    wallet: WalletOption = None,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take an order (or --all of yours) out of the book. It stays valid on chain: to void
    it for good, `nuage order cancel`.

    Example: `nuage order unpublish 0x3b5d… --as pool-owner`
    """
    if (order_hash is None) == (not every):
        raise typer.BadParameter("give an order HASH, or --all (not both)")
    config = settings()
    account = signer(config, as_role, wallet)
    with market_client(config, market) as client:
        if order_hash is not None:
            _print_record(client.unpublish(order_hash, account), as_json, "unpublished")
            return
        hashes = client.unpublish_all(account)
    if as_json:
        print_json({"owner": account.address, "unpublished": hashes})
    else:
        out.print(f"unpublished {len(hashes)} order(s) of {account.address}")
        for unpublished in hashes:
            out.print(f"  {unpublished}")


@app.command()
def cancel(
    file: OrderFile,
    as_role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Void an order on chain for good (its owner sends the transaction); the market drops it.

    Example: `nuage order cancel pool.json --as pool-owner`
    """
    from nuage.network import connect
    from nuage.protocol.eip712 import Domain
    from nuage.protocol.orders import Operation

    config = settings()
    _, order = _read(file)
    contracts = connect(config, rpc)
    account = signer(config, as_role, wallet)
    manage = getattr(contracts.market.functions, f"manage{order.TYPE_NAME}")
    with waiting("cancelling on chain…"):
        receipt = contracts.chain.transact(
            manage(order.as_tuple(), int(Operation.CLOSE), b""), account
        )
    domain = Domain(
        chain_id=contracts.deployment.chain_id, verifying_contract=contracts.market.address
    )
    digest = "0x" + order.hash(domain).hex()
    transaction = receipt["transactionHash"].to_0x_hex()
    if as_json:
        print_json({"hash": digest, "cancelled": True, "transaction": transaction})
    else:
        out.print(f"[green]✓[/] cancelled {digest} (transaction {transaction})")


@app.command()
def show(
    target: Annotated[str, typer.Argument(metavar="HASH|FILE", help="An order hash or file.")],
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an order as the market holds it: status, remaining volume, fields.

    Example: `nuage order show 0x3b5d…`
    """
    config = settings()
    with market_client(config, market) as client:
        order_hash = target
        if Path(target).is_file():
            _, order = _read(Path(target))
            order_hash = "0x" + order.hash(client.domain()).hex()
        record = client.get(order_hash)
    _print_record(record, as_json, None)


@app.command()
def explain(
    file: OrderFile,
    limit: Annotated[
        int | None, typer.Option(help="Offers of each kind considered.", min=1)
    ] = None,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Say whether a request order can match now: the best offers, and why the others don't.

    Example: `nuage order explain request.json`
    """
    from nuage.protocol.orders import RequestOrder

    kind, order = _read(file)
    if not isinstance(order, RequestOrder):
        raise OrderError(f"{file} holds a {kind} order: explain takes a request order")
    with market_client(settings(), market) as client, waiting("asking the market…"):
        answer = client.explain(order, limit=limit)
    if as_json:
        print_json(answer.model_dump(mode="json"))
        return
    _print_explanation(answer)


# -- files and output ------------------------------------------------------------------------


def _tag(text: str) -> bytes:
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return tags.tag(*names)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--tag") from None


def _parse(kind: str, document: Any) -> Order:
    from nuage.market.wire import order_from_json

    return order_from_json(cast("OrderKind", kind), document)


def _read(file: Path) -> tuple[str, Order]:
    try:
        raw = json.loads(file.read_text())
        kind, document = raw["kind"], raw["order"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{file} is not an order file ({{'kind': …, 'order': {{…}}}}): {error}"
        ) from None
    if kind not in KINDS:
        raise ConfigError(f"{file}: {kind!r} is not a kind of order ({', '.join(KINDS)})")
    return kind, _parse(kind, document)


def _write(kind: str, order: Order, output: Path | None) -> None:
    from nuage.market.wire import order_to_json

    text = json.dumps({"kind": kind, "order": order_to_json(order)}, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        err.print(f"wrote {output}")


def _print_record(record: OrderRecord, as_json: bool, done: str | None) -> None:
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    if done:
        out.print(f"[green]✓[/] {done} {record.kind} order {record.hash}")
    table = Table(show_header=False, box=None)
    table.add_row("hash", record.hash)
    table.add_row("status", record.status.value)
    table.add_row("owner", record.owner)
    table.add_row("price", f"{format_rlc(record.price)} RLC")
    table.add_row("remaining", f"{record.remaining} of {record.volume}")
    table.add_row("published", record.published_at.isoformat(timespec="seconds"))
    for name, value in record.order.items():
        if name != "sign":
            table.add_row(name, escape(str(value)))
    out.print(table)


def _print_explanation(answer: ExplainAnswer) -> None:
    colour = "green" if answer.matchable else "red"
    out.print(f"[{colour}]{escape(answer.summary)}[/]")
    if not answer.signature_checked:
        out.print("(the request is not signed: judged as if it were)")
    for reason in answer.request_reasons:
        out.print(f"  the request: {escape(reason)}")
    table = Table("kind", "order", "price (RLC)", "verdict")
    for offer in answer.offers:
        verdict = (
            "[green]chosen[/]"
            if offer.chosen
            else ("[green]fits[/]" if offer.compatible else escape("; ".join(offer.reasons)))
        )
        table.add_row(offer.kind, offer.hash[:18] + "…", format_rlc(offer.price), verdict)
    if answer.offers:
        out.print(table)
