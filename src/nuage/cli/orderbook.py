"""`nuage orderbook`: browse the market's open orders, cheapest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nuage.cli._common import JsonOption, out, print_json, settings
from nuage.cli.order import MarketOption, market_client
from nuage.protocol import tags
from nuage.protocol.amounts import format_rlc

if TYPE_CHECKING:
    from nuage.market.models import OrderPage

__all__ = ["app"]

app = typer.Typer(
    name="orderbook",
    help="""Browse the open orders of the market: offers cheapest first, requests best paying
first, then oldest first.

```
nuage orderbook app 0xAPP                           # the app's orders
nuage orderbook workerpool --category 0 --tag gpu   # pools offering a GPU in category XS
nuage orderbook dataset --app 0xAPP                 # datasets this app may use
nuage orderbook requester 0xREQUESTER --json
```""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)

_Address = Annotated[str | None, typer.Option(metavar="ADDRESS")]
_Tag = Annotated[str | None, typer.Option(help="Orders whose tag has these bits: gpu, tee.")]
_MinVolume = Annotated[int | None, typer.Option(help="Remaining volume at least.", min=0)]
_Limit = Annotated[int, typer.Option(help="Orders per page.", min=1, max=1000)]
_Offset = Annotated[int, typer.Option(help="Orders to skip.", min=0)]


@app.command("app")
def app_orders(
    app_address: Annotated[str | None, typer.Argument(metavar="[APP]", help="The app.")] = None,
    dataset: _Address = None,
    workerpool: _Address = None,
    requester: _Address = None,
    owner: _Address = None,
    tag: _Tag = None,
    min_volume: _MinVolume = None,
    limit: _Limit = 20,
    offset: _Offset = 0,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """App orders (of APP, or all), with the datasets, pools and requesters they allow."""
    _show("app", locals() | {"app": app_address})


@app.command("dataset")
def dataset_orders(
    dataset: Annotated[str | None, typer.Argument(metavar="[DATASET]")] = None,
    app_address: Annotated[str | None, typer.Option("--app", metavar="ADDRESS")] = None,
    workerpool: _Address = None,
    requester: _Address = None,
    owner: _Address = None,
    tag: _Tag = None,
    min_volume: _MinVolume = None,
    limit: _Limit = 20,
    offset: _Offset = 0,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dataset orders (of DATASET, or all), with the apps, pools and requesters they allow."""
    _show("dataset", locals() | {"app": app_address})


@app.command("workerpool")
def workerpool_orders(
    workerpool: Annotated[str | None, typer.Argument(metavar="[WORKERPOOL]")] = None,
    app_address: Annotated[str | None, typer.Option("--app", metavar="ADDRESS")] = None,
    dataset: _Address = None,
    requester: _Address = None,
    owner: _Address = None,
    category: Annotated[int | None, typer.Option(min=0)] = None,
    min_trust: Annotated[int | None, typer.Option(min=0)] = None,
    tag: _Tag = None,
    min_volume: _MinVolume = None,
    limit: _Limit = 20,
    offset: _Offset = 0,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Workerpool orders (of WORKERPOOL, or all): price, category, trust, tag."""
    _show("workerpool", locals() | {"app": app_address})


@app.command("requester")
def request_orders(
    requester: Annotated[str | None, typer.Argument(metavar="[REQUESTER]")] = None,
    app_address: Annotated[str | None, typer.Option("--app", metavar="ADDRESS")] = None,
    dataset: _Address = None,
    workerpool: _Address = None,
    category: Annotated[int | None, typer.Option(min=0)] = None,
    min_trust: Annotated[int | None, typer.Option(min=0)] = None,
    tag: _Tag = None,
    min_volume: _MinVolume = None,
    limit: _Limit = 20,
    offset: _Offset = 0,
    market: MarketOption = None,
    as_json: JsonOption = False,
) -> None:
    """Request orders (of REQUESTER, or all), best paying first."""
    _show("request", locals() | {"app": app_address})


_FILTERS = (
    "app",
    "dataset",
    "workerpool",
    "requester",
    "owner",
    "category",
    "min_trust",
    "tag",
    "min_volume",
)


def _show(kind: str, options: dict[str, Any]) -> None:
    filters = {name: options.get(name) for name in _FILTERS if options.get(name) is not None}
    with market_client(settings(), options["market"]) as client:
        page = client.query(
            kind,  # type: ignore[arg-type]
            limit=options["limit"],
            offset=options["offset"],
            **filters,
        )
    if options["as_json"]:
        print_json(page.model_dump(mode="json"))
        return
    _print_page(kind, page)


def _short(address: str) -> str:
    return address if address == "any" else f"{address[:8]}…{address[-4:]}"


def _print_page(kind: str, page: OrderPage) -> None:
    if not page.orders:
        out.print(f"no open {kind} order matches (of {page.total})")
        return
    columns = ["order", "price (RLC)", "left", "tag"]
    if kind in ("workerpool", "request"):
        columns += ["category", "trust"]
    columns += ["app" if kind != "app" else "owner", "published"]
    table = Table(*columns)
    zero = "0x" + "00" * 20
    for record in page.orders:
        fields = record.order
        tag_names = ",".join(tags.names(bytes.fromhex(fields["tag"][2:]))) or "-"
        row = [
            record.hash[:10] + "…",
            format_rlc(record.price),
            f"{record.remaining}/{record.volume}",
            tag_names,
        ]
        if kind in ("workerpool", "request"):
            row += [str(fields["category"]), str(fields["trust"])]
        if kind == "app":
            row.append(_short(record.owner))
        else:
            named = fields.get("app", fields.get("apprestrict", zero))
            row.append(_short("any" if named.lower() == zero else named))
        row.append(record.published_at.strftime("%Y-%m-%d %H:%M:%S"))
        table.add_row(*row)
    out.print(table)
    first = page.offset + 1
    out.print(f"orders {first}-{page.offset + len(page.orders)} of {page.total}")
