"""The checks of the hub's `matchOrders`, written once for clients.

`check_match` runs every check of `contracts/modules/market.vy` (and of the
hub's `openDeal`, which locks the funds), in the same order and with the
same reason strings, against a snapshot of the chain facts they read
(`ChainFacts`). It reports *every* failing check, so a
client can explain a refusal; the first one is the reason the hub would
revert with. Where all pass it also computes what the hub would record:
deal id, volume, the requester's cost and the pool owner's stake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from eth_utils import to_checksum_address

from nuage.protocol import tags
from nuage.protocol.eip712 import Domain, recover
from nuage.protocol.ids import deal_id
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = [
    "MAX_BALANCE",
    "MAX_BOT_SIZE",
    "MAX_TRUST",
    "WORKERPOOL_STAKE_RATIO",
    "ChainFacts",
    "Incompatibility",
    "MatchVerdict",
    "WorkerpoolPolicy",
    "check_match",
    "is_signed",
]

WORKERPOOL_STAKE_RATIO = 30  # % of the pool price per task, locked from the pool owner
MAX_BOT_SIZE = 2**32 - 1  # largest deal; bigger orders are matched in several deals
MAX_TRUST = 2**40
MAX_BALANCE = 2**96  # escrow bound: the market refuses any price at or above it


class Incompatibility(StrEnum):
    """Why `matchOrders` refuses, as the contracts' revert reasons, in check order."""

    CATEGORY_MISMATCH = "market: category mismatch"
    UNKNOWN_CATEGORY = "market: unknown category"
    TRUST_TOO_LOW = "market: workerpool trust too low"
    TRUST_OUT_OF_RANGE = "market: trust out of range"
    APP_PRICE = "market: app price too high"
    DATASET_PRICE = "market: dataset price too high"
    WORKERPOOL_PRICE = "market: workerpool price too high"
    TAG_NOT_OFFERED = "market: tag not offered by workerpool"
    TEE_MISMATCH = "market: tee bit differs from app"
    APP_MISMATCH = "market: app mismatch"
    DATASET_MISMATCH = "market: dataset mismatch"
    WORKERPOOL_MISMATCH = "market: workerpool mismatch"
    APP_RESTRICTS_DATASET = "market: app order restricts dataset"
    APP_RESTRICTS_WORKERPOOL = "market: app order restricts workerpool"
    APP_RESTRICTS_REQUESTER = "market: app order restricts requester"
    DATASET_RESTRICTS_APP = "market: dataset order restricts app"
    DATASET_RESTRICTS_WORKERPOOL = "market: dataset order restricts workerpool"
    DATASET_RESTRICTS_REQUESTER = "market: dataset order restricts requester"
    WORKERPOOL_RESTRICTS_APP = "market: workerpool order restricts app"
    WORKERPOOL_RESTRICTS_DATASET = "market: workerpool order restricts dataset"
    WORKERPOOL_RESTRICTS_REQUESTER = "market: workerpool order restricts requester"
    APP_NOT_REGISTERED = "market: app not registered"
    APP_SIGNATURE = "market: bad app order signature"
    DATASET_NOT_REGISTERED = "market: dataset not registered"
    DATASET_SIGNATURE = "market: bad dataset order signature"
    WORKERPOOL_NOT_REGISTERED = "market: workerpool not registered"
    WORKERPOOL_SIGNATURE = "market: bad workerpool order signature"
    REQUEST_SIGNATURE = "market: bad request order signature"
    APP_CONSUMED = "market: app order consumed"
    DATASET_CONSUMED = "market: dataset order consumed"
    WORKERPOOL_CONSUMED = "market: workerpool order consumed"
    REQUEST_CONSUMED = "market: request order consumed"
    PRICE_OUT_OF_RANGE = "market: price out of range"
    REQUESTER_FUNDS = "hub: requester balance too low"
    WORKERPOOL_OWNER_FUNDS = "hub: workerpool owner balance too low"


@dataclass(frozen=True)
class WorkerpoolPolicy:
    owner: str
    worker_stake_ratio: int = 30
    scheduler_reward_ratio: int = 1


@dataclass(frozen=True)
class ChainFacts:
    """What `matchOrders` reads from the chain, as a snapshot.

    Addresses are keys in checksum form; anything absent reads as the hub
    would read an empty slot (no owner, nothing consumed, zero balance).
    """

    domain: Domain
    category_count: int = 5
    app_owners: Mapping[str, str] = field(default_factory=dict)
    dataset_owners: Mapping[str, str] = field(default_factory=dict)
    workerpools: Mapping[str, WorkerpoolPolicy] = field(default_factory=dict)
    consumed: Mapping[bytes, int] = field(default_factory=dict)
    presigned: Mapping[bytes, str] = field(default_factory=dict)
    free_balances: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchVerdict:
    """Every failing check (first = the hub's revert reason) and the would-be deal."""

    reasons: tuple[Incompatibility, ...]
    app_order_hash: bytes
    dataset_order_hash: bytes
    workerpool_order_hash: bytes
    request_order_hash: bytes
    volume: int = 0
    deal_id: bytes = b""
    cost: int = 0
    stake: int = 0

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def revert_reason(self) -> str | None:
        return self.reasons[0].value if self.reasons else None


def is_signed(signer: str, order_hash: bytes, sign: bytes, presigned: Mapping[bytes, str]) -> bool:
    """The hub's rule: a signature by `signer`, or (empty `sign`) a presignature by it."""
    if signer == ZERO_ADDRESS:
        return False
    if not sign:
        return presigned.get(order_hash) == signer
    return recover(order_hash, sign) == signer


def _allows(restriction: str, candidate: str) -> bool:
    return restriction in (ZERO_ADDRESS, candidate)


def check_match(
    app: AppOrder,
    dataset: DatasetOrder,
    workerpool: WorkerpoolOrder,
    request: RequestOrder,
    facts: ChainFacts,
) -> MatchVerdict:
    """Run every check of `matchOrders` on these orders against `facts`."""
    failed: list[Incompatibility] = []
    i = Incompatibility

    def need(condition: bool, reason: Incompatibility) -> None:
        if not condition:
            failed.append(reason)

    need(request.category == workerpool.category, i.CATEGORY_MISMATCH)
    need(request.category < facts.category_count, i.UNKNOWN_CATEGORY)
    need(request.trust <= workerpool.trust, i.TRUST_TOO_LOW)
    need(request.trust < MAX_TRUST, i.TRUST_OUT_OF_RANGE)
    need(request.appmaxprice >= app.appprice, i.APP_PRICE)
    need(request.datasetmaxprice >= dataset.datasetprice, i.DATASET_PRICE)
    need(request.workerpoolmaxprice >= workerpool.workerpoolprice, i.WORKERPOOL_PRICE)
    asked = tags.to_int(app.tag) | tags.to_int(dataset.tag) | tags.to_int(request.tag)
    need(asked & ~tags.to_int(workerpool.tag) == 0, i.TAG_NOT_OFFERED)
    need((asked ^ tags.to_int(app.tag)) & tags.TEE == 0, i.TEE_MISMATCH)
    need(request.app == app.app, i.APP_MISMATCH)
    need(request.dataset == dataset.dataset, i.DATASET_MISMATCH)
    need(_allows(request.workerpool, workerpool.workerpool), i.WORKERPOOL_MISMATCH)
    need(_allows(app.datasetrestrict, dataset.dataset), i.APP_RESTRICTS_DATASET)
    need(_allows(app.workerpoolrestrict, workerpool.workerpool), i.APP_RESTRICTS_WORKERPOOL)
    need(_allows(app.requesterrestrict, request.requester), i.APP_RESTRICTS_REQUESTER)
    need(_allows(dataset.apprestrict, app.app), i.DATASET_RESTRICTS_APP)
    need(_allows(dataset.workerpoolrestrict, workerpool.workerpool), i.DATASET_RESTRICTS_WORKERPOOL)
    need(_allows(dataset.requesterrestrict, request.requester), i.DATASET_RESTRICTS_REQUESTER)
    need(_allows(workerpool.apprestrict, app.app), i.WORKERPOOL_RESTRICTS_APP)
    need(_allows(workerpool.datasetrestrict, dataset.dataset), i.WORKERPOOL_RESTRICTS_DATASET)
    need(_allows(workerpool.requesterrestrict, request.requester), i.WORKERPOOL_RESTRICTS_REQUESTER)

    domain = facts.domain
    app_hash = app.hash(domain)
    app_owner = facts.app_owners.get(app.app, ZERO_ADDRESS)
    need(app_owner != ZERO_ADDRESS, i.APP_NOT_REGISTERED)
    need(_signed(app_owner, app_hash, app, facts), i.APP_SIGNATURE)
    has_dataset = not dataset.is_none
    dataset_hash = bytes(32)
    if has_dataset:
        dataset_hash = dataset.hash(domain)
        dataset_owner = facts.dataset_owners.get(dataset.dataset, ZERO_ADDRESS)
        need(dataset_owner != ZERO_ADDRESS, i.DATASET_NOT_REGISTERED)
        need(_signed(dataset_owner, dataset_hash, dataset, facts), i.DATASET_SIGNATURE)
    pool_hash = workerpool.hash(domain)
    policy = facts.workerpools.get(workerpool.workerpool, WorkerpoolPolicy(ZERO_ADDRESS))
    need(policy.owner != ZERO_ADDRESS, i.WORKERPOOL_NOT_REGISTERED)
    need(_signed(policy.owner, pool_hash, workerpool, facts), i.WORKERPOOL_SIGNATURE)
    request_hash = request.hash(domain)
    need(_signed(request.requester, request_hash, request, facts), i.REQUEST_SIGNATURE)

    volume = MAX_BOT_SIZE
    remaining = app.volume - facts.consumed.get(app_hash, 0)
    need(remaining > 0, i.APP_CONSUMED)
    volume = min(volume, remaining)
    if has_dataset:
        remaining = dataset.volume - facts.consumed.get(dataset_hash, 0)
        need(remaining > 0, i.DATASET_CONSUMED)
        volume = min(volume, remaining)
    remaining = workerpool.volume - facts.consumed.get(pool_hash, 0)
    need(remaining > 0, i.WORKERPOOL_CONSUMED)
    volume = min(volume, remaining)
    bot_first = facts.consumed.get(request_hash, 0)
    remaining = request.volume - bot_first
    need(remaining > 0, i.REQUEST_CONSUMED)
    volume = max(0, min(volume, remaining))

    dataset_price = dataset.datasetprice if has_dataset else 0
    prices = (app.appprice, dataset_price, workerpool.workerpoolprice)
    need(max(prices) < MAX_BALANCE, i.PRICE_OUT_OF_RANGE)
    cost = sum(prices) * volume
    requester_free = facts.free_balances.get(request.requester, 0)
    affordable = requester_free >= cost
    need(affordable, i.REQUESTER_FUNDS)
    stake = workerpool.workerpoolprice * WORKERPOOL_STAKE_RATIO // 100 * volume
    owner_free = facts.free_balances.get(policy.owner, 0)
    if affordable and policy.owner == request.requester:
        owner_free -= cost  # the requester's lock comes first
    need(owner_free >= stake, i.WORKERPOOL_OWNER_FUNDS)

    return MatchVerdict(
        reasons=tuple(failed),
        app_order_hash=app_hash,
        dataset_order_hash=dataset_hash,
        workerpool_order_hash=pool_hash,
        request_order_hash=request_hash,
        volume=volume,
        deal_id=deal_id(request_hash, bot_first),
        cost=cost,
        stake=stake,
    )


def _signed(owner: str, order_hash: bytes, order: Order, facts: ChainFacts) -> bool:
    return is_signed(to_checksum_address(owner), order_hash, order.sign, facts.presigned)
