"""Settling tasks: finalize, contributeAndFinalize, claim, the kitty and callbacks.

- `open_settled_deal(...)`: a `MatchedDeal` at any trust, price and volume,
  with a dataset and a callback contract when asked.
- `give_score(protocol, worker, score)`: writes a worker's reputation into the
  hub's escrow word (its balances untouched), so one test can show weights
  3, 32 or 99 without hundreds of tasks first.
- `Ledger`: every account's (free, frozen) before a settlement; `moves()` the
  change since. `finalize_moves`, `fast_moves` and `claim_moves` say what the
  change must be, from `nuage.protocol.rewards`.
- `finalize` / `claim` / `fast_complete`: the hub's calls, contributors
  sorted as the hub wants them unless told otherwise.
- `fill_kitty`: fails a task so the hub seizes its pool stake into the kitty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import boa
from eth_utils import keccak

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.consensus import log2_weight, weight
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import sign_authorization
from nuage.protocol.rewards import Contributor, Settlement, pool_stake, settle, settle_fast
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_poco._helpers import FINAL_DELAY, PRICE, MatchedDeal

RESULTS = keccak(text="results: nuage storage id")  # where a task's result is stored
CALLBACK_DATA = b'{"answer": 42}'  # what an app hands its requester's contract
CALLBACK_DIGEST = keccak(CALLBACK_DATA)  # the digest workers agree on when there is such data
SCORE_SHIFT = 192  # the escrow word: free 0-95 | frozen 96-191 | score 192-255

Move = tuple[int, int]  # (change of free, change of frozen), in nRLC


# -- deals -------------------------------------------------------------------------


def open_settled_deal(
    protocol: Protocol,
    *,
    requester: Actor,
    app_owner: Actor,
    pool_owner: Actor,
    dataset_owner: Actor | None = None,
    trust: int = 3,
    volume: int = 1,
    price: int = PRICE,
    callback: str = ZERO_ADDRESS,
) -> MatchedDeal:
    """Matches a deal of `volume` tasks (with a dataset, a callback, when given)."""
    orders = protocol.ready_deal(
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        dataset_owner=dataset_owner,
        price=price,
        volume=volume,
        trust=trust,
        funds=max(100 * 10**9, 3 * price * volume),
    )
    if callback != ZERO_ADDRESS:
        request = dataclasses.replace(orders.request, callback=callback, sign=b"")
        orders = dataclasses.replace(orders, request=request.signed(requester.key, protocol.domain))
    deal_id, record = protocol.match_record(orders)
    return MatchedDeal(protocol, deal_id, record, pool_owner)


# -- reputation ----------------------------------------------------------------------


def give_score(protocol: Protocol, worker: Actor, score: int) -> None:
    """Sets `worker`'s score in the hub's storage, leaving its balances as they are."""
    slot = _account_slot(protocol, worker.address)
    word = boa.env.get_storage(protocol.hub.address, slot)
    boa.env.set_storage(protocol.hub.address, slot, (word % 2**SCORE_SHIFT) | score << SCORE_SHIFT)
    assert protocol.hub.scoreOf(worker.address) == score


def _account_slot(protocol: Protocol, address: str) -> int:
    # a Vyper HashMap's value lives at keccak256(slot ++ key)
    layout = protocol.hub.compiler_data.storage_layout["storage_layout"]
    base = layout["escrow"]["_accounts"]["slot"]
    key = int(address, 16).to_bytes(32, "big")
    return int.from_bytes(keccak(base.to_bytes(32, "big") + key), "big")


def contributor(protocol: Protocol, worker: Actor, *, won: bool) -> Contributor:
    """What `rewards.settle` needs of `worker`, from its score now (before it contributes)."""
    w = weight(protocol.hub.scoreOf(worker.address))
    return Contributor(worker=worker.address, log2_weight=log2_weight(w), won=won)


# -- balances --------------------------------------------------------------------------


@dataclasses.dataclass
class Ledger:
    """Free and frozen balances of some accounts, and the kitty, at one moment."""

    protocol: Protocol
    accounts: dict[str, Move]
    kitty: int

    @classmethod
    def of(cls, protocol: Protocol, addresses: Iterable[str]) -> Ledger:
        return cls(protocol, {a: protocol.account(a) for a in set(addresses)}, protocol.hub.kitty())

    def moves(self) -> dict[str, Move]:
        """Each account's change since the snapshot; accounts that did not move left out."""
        moves = {}
        for address, (free, frozen) in self.accounts.items():
            now_free, now_frozen = self.protocol.account(address)
            if (now_free - free, now_frozen - frozen) != (0, 0):
                moves[address] = (now_free - free, now_frozen - frozen)
        return moves


def _add(moves: dict[str, Move], address: str, free: int, frozen: int) -> None:
    old_free, old_frozen = moves.get(address, (0, 0))
    moves[address] = (old_free + free, old_frozen + frozen)


def _settled(moves: dict[str, Move]) -> dict[str, Move]:
    return {a: m for a, m in moves.items() if m != (0, 0)}


def _owner_moves(record: DealRecord, settlement: Settlement) -> dict[str, Move]:
    # the requester pays the task's price out of its frozen balance; the pool
    # owner's stake comes back with the scheduler's reward and kitty bonus
    moves: dict[str, Move] = {}
    _add(moves, record.requester, 0, -record.task_price())
    _add(moves, record.app_owner, settlement.app_reward, 0)
    _add(moves, record.dataset_owner, settlement.dataset_reward, 0)
    stake = pool_stake(record.workerpool_price)
    reward = stake + settlement.scheduler_reward + settlement.kitty_bonus
    _add(moves, record.workerpool_owner, reward, -stake)
    return moves


def finalize_moves(record: DealRecord, settlement: Settlement) -> dict[str, Move]:
    """Every account's change when `finalize` pays `settlement` (`rewards.settle`)."""
    moves = _owner_moves(record, settlement)
    for worker, reward in settlement.worker_rewards.items():
        _add(moves, worker, record.worker_stake + reward, -record.worker_stake)
    for worker, stake in settlement.seized_stakes.items():
        _add(moves, worker, 0, -stake)
    return _settled(moves)


def fast_moves(record: DealRecord, settlement: Settlement) -> dict[str, Move]:
    """Every account's change when `contributeAndFinalize` pays `settlement` (`settle_fast`)."""
    moves = _owner_moves(record, settlement)
    for worker, reward in settlement.worker_rewards.items():
        _add(moves, worker, reward, 0)
    return _settled(moves)


def claim_moves(record: DealRecord, contributors: Sequence[Actor] = ()) -> dict[str, Move]:
    """Every account's change when a task is claimed: the kitty takes the pool stake."""
    moves: dict[str, Move] = {}
    price = record.task_price()
    _add(moves, record.requester, price, -price)
    _add(moves, record.workerpool_owner, 0, -pool_stake(record.workerpool_price))
    for worker in contributors:
        _add(moves, worker.address, record.worker_stake, -record.worker_stake)
    return _settled(moves)


def merged(*all_moves: Mapping[str, Move]) -> dict[str, Move]:
    """The sum of several settlements' moves."""
    total: dict[str, Move] = {}
    for moves in all_moves:
        for address, (free, frozen) in moves.items():
            _add(total, address, free, frozen)
    return _settled(total)


def expected_settlement(
    deal: MatchedDeal, winners: Sequence[Contributor], losers: Sequence[Contributor]
) -> Settlement:
    """`rewards.settle` for this deal's task, with the hub's kitty and scores now."""
    record = deal.record
    everyone = [*winners, *losers]
    return settle(
        app_price=record.app_price,
        dataset_price=record.dataset_price,
        workerpool_price=record.workerpool_price,
        worker_stake=record.worker_stake,
        scheduler_reward_ratio=record.scheduler_reward_ratio,
        contributors=everyone,
        kitty=deal.hub.kitty(),
        scores={c.worker: deal.hub.scoreOf(c.worker) for c in everyone},
    )


def expected_fast_settlement(deal: MatchedDeal, worker: Actor) -> Settlement:
    record = deal.record
    return settle_fast(
        app_price=record.app_price,
        dataset_price=record.dataset_price,
        workerpool_price=record.workerpool_price,
        scheduler_reward_ratio=record.scheduler_reward_ratio,
        kitty=deal.hub.kitty(),
        worker=worker.address,
    )


def hub_holds_all_money(protocol: Protocol, addresses: Iterable[str]) -> bool:
    """Free + frozen of every account plus the kitty equals the RLC the hub holds."""
    return protocol.money(list(set(addresses))) == protocol.rlc.balanceOf(protocol.hub.address)


# -- the settling calls ---------------------------------------------------------------


def ascending(actors: Iterable[Actor | str]) -> list[str]:
    """Addresses in the order the hub wants contributor lists: ascending."""
    addresses = (a if isinstance(a, str) else a.address for a in actors)
    return sorted(addresses, key=lambda a: int(a, 16))


def finalize(
    deal: MatchedDeal,
    contributors: Sequence[Actor | str],
    *,
    index: int | None = None,
    results: bytes = RESULTS,
    callback_data: bytes = b"",
    sender: Actor | None = None,
    ordered: bool = True,
    **call: Any,
) -> None:
    """`finalize` by the pool owner (or `sender`); `call` goes to boa (`gas=`)."""
    index = deal.first if index is None else index
    listed = ascending(contributors) if ordered else [_address(a) for a in contributors]
    with boa.env.prank((sender or deal.pool_owner).address):
        deal.hub.finalize(*deal.args(), index, results, callback_data, listed, **call)


def finalize_item(
    deal: MatchedDeal,
    index: int,
    contributors: Sequence[Actor | str],
    *,
    results: bytes = RESULTS,
    callback_data: bytes = b"",
) -> tuple[Any, ...]:
    """A `FinalizeItem` for `finalizeArray` (contributors sorted)."""
    return (index, results, callback_data, ascending(contributors))


def claim(
    deal: MatchedDeal,
    contributors: Sequence[Actor | str] = (),
    *,
    index: int | None = None,
    sender: Actor | str | None = None,
    ordered: bool = True,
) -> None:
    """`claim` by `sender`, the requester unless told (anyone may claim)."""
    index = deal.first if index is None else index
    listed = ascending(contributors) if ordered else [_address(a) for a in contributors]
    caller = deal.record.requester if sender is None else _address(sender)
    with boa.env.prank(caller):
        deal.hub.claim(*deal.args(), index, listed)


def fast_complete(
    deal: MatchedDeal,
    worker: Actor | str,
    *,
    digest: bytes = CALLBACK_DIGEST,
    index: int | None = None,
    results: bytes = RESULTS,
    callback_data: bytes = b"",
    authorization: bytes | None = None,
    **call: Any,
) -> None:
    """`contributeAndFinalize` by `worker` (an actor, or a contract's address)."""
    index = deal.first if index is None else index
    address = _address(worker)
    if authorization is None:
        authorization = sign_authorization(
            deal.pool_owner.key, deal.protocol.hub_domain, address, deal.task_id(index)
        )
    with boa.env.prank(address):
        deal.hub.contributeAndFinalize(
            *deal.args(),
            index,
            digest,
            results,
            callback_data,
            ZERO_ADDRESS,
            b"",
            authorization,
            **call,
        )


def _address(actor: Actor | str) -> str:
    return actor if isinstance(actor, str) else actor.address


def revealed_task(
    deal: MatchedDeal,
    winners: Sequence[Actor],
    *,
    digest: bytes = CALLBACK_DIGEST,
    index: int | None = None,
) -> bytes:
    """Initializes task `index`, `winners` contribute `digest` (consensus) and all reveal."""
    deal.initialize(index)
    for worker in winners:
        deal.contribute(worker, digest, index)
    for worker in winners:
        deal.reveal(worker, digest, index)
    return deal.task_id(index)


def fill_kitty(
    protocol: Protocol, requester: Actor, app_owner: Actor, pool_owner: Actor, price: int
) -> int:
    """Fails a fresh one-task deal at `price`: its pool stake goes to the kitty; returns it."""
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, price=price
    )
    boa.env.time_travel(seconds=FINAL_DELAY)
    claim(deal)
    return pool_stake(price)
