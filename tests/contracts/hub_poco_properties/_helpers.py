"""A hub with test-only setters, deals with chosen terms, and workers, for PoCo's property tests.

`PocoHarness.vy` is the hub (the same modules, initialized as `Hub.vy` does)
plus `set_score`, `weight` and `log2`; `harness_protocol` deploys it with a
market of its own, so orders match and deals open exactly as on the real hub.
It imports from `contracts/`, so it compiles with that as a search path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa
from eth_utils import keccak

from nuage.protocol import DatasetOrder
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import TaskStatus
from tests.contracts import deployers
from tests.contracts.deployers import CONTRACTS
from tests.contracts.harness import Actor, Deal, Protocol

MASK_96 = 2**96 - 1
HERE = Path(__file__).resolve().parent
TIME_REF = 300  # category 0 (XS): contribution deadline start + 7T, final start + 10T
FUNDS = 10**15  # nRLC each actor deposits when it needs money (1M RLC)


def _compile(name: str) -> Any:
    boa.interpret.set_search_paths([str(CONTRACTS)])
    try:
        return boa.load_partial(str(HERE / name))
    finally:
        boa.interpret.set_search_paths([])


POCO_HARNESS = _compile("PocoHarness.vy")

WORKERS = tuple(Actor.named(f"worker {i}") for i in range(1, 13))


@dataclass(frozen=True)
class Roles:
    """The non-worker actors of a deal."""

    requester: Actor
    app_owner: Actor
    dataset_owner: Actor
    pool_owner: Actor

    @property
    def all(self) -> tuple[Actor, ...]:
        return (self.requester, self.app_owner, self.dataset_owner, self.pool_owner)


def harness_protocol(protocol: Protocol) -> Protocol:
    """The session's token and registries, with a PocoHarness hub and a market bound to it."""
    with boa.env.prank(protocol.deployer.address):
        hub = POCO_HARNESS.deploy(protocol.rlc)
        market = deployers.MARKET.deploy(
            hub, protocol.apps, protocol.datasets, protocol.workerpools
        )
        hub.bindMarket(market)
    return Protocol(
        protocol.deployer,
        protocol.rlc,
        protocol.apps,
        protocol.datasets,
        protocol.workerpools,
        hub,
        market,
    )


@dataclass(frozen=True)
class Assets:
    """An app, a workerpool and (maybe) a dataset, registered once and dealt many times."""

    app: str
    pool: str
    dataset: str | None


def register_assets(p: Protocol, roles: Roles, *, with_dataset: bool = True) -> Assets:
    dataset = p.new_dataset(roles.dataset_owner) if with_dataset else None
    return Assets(p.new_app(roles.app_owner), p.new_workerpool(roles.pool_owner), dataset)


def open_deal(
    p: Protocol,
    roles: Roles,
    assets: Assets,
    *,
    app_price: int,
    pool_price: int,
    trust: int,
    dataset_price: int | None = None,
    stake_ratio: int = 30,
    scheduler_ratio: int = 1,
    volume: int = 1,
) -> tuple[bytes, DealRecord]:
    """Matches orders at these terms (the pool's policy set first) and returns (deal id, record).

    The requester and the pool owner must hold enough free RLC in the hub.
    A dataset order is included when `dataset_price` is given.
    """
    with boa.env.prank(roles.pool_owner.address):
        p.workerpools.setPolicy(assets.pool, stake_ratio, scheduler_ratio)
    dataset_order = DatasetOrder.none()
    if dataset_price is not None:
        assert assets.dataset is not None
        dataset_order = p.dataset_order(
            assets.dataset, roles.dataset_owner, datasetprice=dataset_price, volume=volume
        )
    deal = Deal(
        app=p.app_order(assets.app, roles.app_owner, appprice=app_price, volume=volume),
        dataset=dataset_order,
        workerpool=p.workerpool_order(
            assets.pool, roles.pool_owner, workerpoolprice=pool_price, volume=volume, trust=trust
        ),
        request=p.request_order(
            assets.app,
            roles.requester,
            dataset=dataset_order.dataset,
            appmaxprice=app_price,
            datasetmaxprice=dataset_order.datasetprice,
            workerpoolmaxprice=pool_price,
            volume=volume,
            trust=trust,
        ),
    )
    return p.match_record(deal)


_AUTHORIZATIONS: dict[tuple[str, str, str, bytes], bytes] = {}


def contribute(
    p: Protocol,
    record: DealRecord,
    deal_id: bytes,
    index: int,
    worker: Actor,
    pool_owner: Actor,
    result: bytes,
) -> None:
    """`worker` contributes `result` (a digest), authorised by `pool_owner`.

    Authorizations are deterministic signatures: they are kept, as a
    scheduler would, so hypothesis examples replaying a task sign once.
    """
    task = task_of(record, deal_id, index)
    key = (pool_owner.address, str(p.hub.address), worker.address, task)
    if key not in _AUTHORIZATIONS:
        _AUTHORIZATIONS[key] = p.authorize(pool_owner, worker, task)
    p.contribute(
        record, deal_id, index, worker, pool_owner, result, authorization=_AUTHORIZATIONS[key]
    )


def task_of(record: DealRecord, deal_id: bytes, index: int) -> bytes:
    return record.task_ids(deal_id)[index - record.bot_first]


def ascending(actors: list[Actor]) -> list[Actor]:
    """Actors in ascending address order, as finalize and claim list contributors."""
    return sorted(actors, key=lambda a: int(a.address, 16))


def status(p: Protocol, task: bytes) -> int:
    return int(p.hub.viewTask(task).status)


def digest(text: str) -> bytes:
    """A result digest named by `text` (what a worker computed)."""
    return text.encode().ljust(32, b"\x00")


def claim(p: Protocol, record: DealRecord, deal_id: bytes, index: int, contributors: list[Actor]):
    """Anyone (here the requester) claims a task after its final deadline."""
    with boa.env.prank(record.requester):
        p.hub.claim(record.as_tuple(), deal_id, index, [a.address for a in ascending(contributors)])


def stored_accounts(hub: Any, addresses: list[str]) -> list[tuple[int, int, int]]:
    """(free, frozen, score) of each account, read straight from the hub's storage.

    The escrow packs an account in one word (free: bits 0-95, frozen: 96-191,
    score: 192-255) at `keccak256(slot of _accounts ++ address)`. Reading
    storage costs no EVM call, so a state machine can check every account
    after every step; `test_stored_accounts_are_what_the_views_say` keeps
    this reading honest against `balanceOf` / `frozenOf` / `scoreOf`.
    """
    layout = hub.compiler_data.storage_layout["storage_layout"]["escrow"]["_accounts"]
    base = int(layout["slot"]).to_bytes(32, "big")
    rows = []
    for address in addresses:
        key = bytes(12) + bytes.fromhex(address[2:])
        word = boa.env.get_storage(hub.address, int.from_bytes(keccak(base + key), "big"))
        rows.append((word & MASK_96, (word >> 96) & MASK_96, word >> 192))
    return rows


def ledger(p: Protocol, actors: list[Actor]) -> dict[str, tuple[int, int, int]]:
    """(free, frozen, score) of each actor's hub account, by name."""
    return {
        a.name: (p.hub.balanceOf(a.address), p.hub.frozenOf(a.address), p.hub.scoreOf(a.address))
        for a in actors
    }


__all__ = [
    "FUNDS",
    "POCO_HARNESS",
    "TIME_REF",
    "WORKERS",
    "Assets",
    "Roles",
    "TaskStatus",
    "ascending",
    "claim",
    "contribute",
    "digest",
    "harness_protocol",
    "ledger",
    "open_deal",
    "register_assets",
    "status",
    "stored_accounts",
    "task_of",
]
