"""A state machine over the whole PoCo task lifecycle, checked against a ghost model.

Deals open (trust 1, 5 or 100, random prices and pool policy), tasks are
initialized, workers contribute (honest, lying, colluding on one wrong
result, or silent: contributing the right result but never revealing),
winners reveal, the scheduler finalizes or reopens, anyone claims after the
final deadline, trust-1 tasks complete in one transaction, and time moves by
multiples of T. The ghost keeps every account's free, frozen and score, the
kitty and every task, computed with `nuage.protocol.consensus` and
`nuage.protocol.rewards`, never with the hub's code.

Invariants only check; rules act (and check their own postconditions):
- money is conserved: free + frozen of every actor + the kitty = the hub's RLC;
- every account, the kitty and every task equal their ghosts;
- a completed or claimed task cannot be finalized, claimed or completed again;
- at finalize only wrong or unrevealed contributors lose stake and score;
- a claim refunds the requester exactly the task's price.

Workers start with scores set through the PocoHarness hub (fresh, or
veterans whose weight counts), so weighted consensus and the log2 split
occur within a few steps. Hypothesis turns random subsets of rules off in
each run (swarm testing), so the scripted tests at the end play every path
of the lifecycle through the same rules and invariants on every run.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boa
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.consensus import Consensus, log2_weight, weight
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import TaskStatus, result_hash
from nuage.protocol.rewards import (
    Contributor,
    Settlement,
    pool_stake,
    refund,
    settle,
    settle_fast,
)
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_poco_properties._helpers import (
    FUNDS,
    TIME_REF,
    WORKERS,
    Assets,
    Roles,
    ascending,
    contribute,
    digest,
    open_deal,
    register_assets,
    stored_accounts,
)

LIFECYCLE_WORKERS = WORKERS[:7]
MAX_DEALS = 8  # deals per run
MAX_LIVE_DEALS = 2  # deals with a task not yet completed or claimed
RIGHT = digest("the right result")
COLLUSION = digest("the result colluders agreed on")
RESULTS = b"\x01" * 32  # where the result is stored
MAX_ROUND = 15  # a task reopens at most 15 times

UNSET = TaskStatus.UNSET
ACTIVE = TaskStatus.ACTIVE
REVEALING = TaskStatus.REVEALING
COMPLETED = TaskStatus.COMPLETED
FAILED = TaskStatus.FAILED


# round prices (1 RLC, 10 RLC: claims of 10 RLC tasks fill the kitty past its
# 1 RLC floor) and any price up to 10 RLC, in nRLC
prices = st.sampled_from([0, 10**9, 10**10]) | st.integers(0, 10**10)


class Behaviour(enum.Enum):
    HONEST = "honest"
    LYING = "lying"  # a wrong result of its own
    COLLUDING = "colluding"  # the wrong result every colluder sends
    SILENT = "silent"  # the right result, never revealed


@dataclass(repr=False)
class DealGhost:
    number: int
    deal_id: bytes
    record: DealRecord
    tasks: list[TaskGhost] = field(default_factory=list)

    @property
    def final_deadline(self) -> int:
        return self.record.start_time + 10 * self.record.time_ref

    @property
    def contribution_deadline(self) -> int:
        return self.record.start_time + 7 * self.record.time_ref

    @property
    def one_transaction(self) -> bool:
        return self.record.trust <= 1

    def __repr__(self) -> str:
        return f"deal {self.number}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass
class ContributionGhost:
    worker: Actor
    result: bytes  # the digest it committed to
    log2_weight: int
    silent: bool
    round: int  # the task's round when it was made (a reopen starts the next one)
    revealed: bool = False


@dataclass(repr=False)
class TaskGhost:
    deal: DealGhost
    index: int
    task_id: bytes
    consensus: Consensus
    status: int = UNSET
    contributions: dict[str, ContributionGhost] = field(default_factory=dict)
    members: dict[bytes, int] = field(default_factory=dict)  # contributors per live group
    consensus_value: bytes = bytes(32)
    winners: int = 0
    reveals: int = 0
    reveal_deadline: int = 0
    round: int = 0
    retried: bool = False  # paying it again was refused

    def __repr__(self) -> str:
        return f"task {self.index} of deal {self.deal.number} (trust {self.deal.record.trust})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # how hypothesis prints a failing run's draws

    def vote(self, result: bytes) -> bytes:
        return result_hash(self.task_id, result)

    @property
    def contributors(self) -> list[Actor]:
        return ascending([c.worker for c in self.contributions.values()])


def now() -> int:
    return int(boa.env.evm.patch.timestamp)


class Script:
    """Stands in for hypothesis' `data` when a test plays the machine's rules by hand.

    Each pick takes the first option that the next chooser accepts, so a
    scenario names its task and worker instead of drawing them.
    """

    def __init__(self, *choosers: Callable[[Any], bool]) -> None:
        self.choosers = list(choosers)

    def pick(self, options: Sequence[Any]) -> Any:
        chooser = self.choosers.pop(0)
        return next(option for option in options if chooser(option))


Data = st.DataObject | Script


class PocoLifecycle(RuleBasedStateMachine):
    """The hub's PoCo lifecycle against a ghost of every account and task."""

    def __init__(self, p: Protocol, roles: Roles, assets: Assets) -> None:
        super().__init__()
        self.p, self.hub, self.roles, self.assets = p, p.hub, roles, assets
        # every account holding RLC in the hub (the test funded every worker)
        self.actors: list[Actor] = [*roles.all, *WORKERS]
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        # the ghost starts from the chain as the test funded it
        self.accounts = {
            a.address: [
                self.hub.balanceOf(a.address),
                self.hub.frozenOf(a.address),
                self.hub.scoreOf(a.address),
            ]
            for a in self.actors
        }
        self.kitty = self.hub.kitty()
        self.deals: list[DealGhost] = []

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # -- the ghost's moves (escrow's, applied to the model) ---------------------

    def _move(self, account: str, free: int = 0, frozen: int = 0) -> None:
        if account == ZERO_ADDRESS:
            assert free == frozen == 0
            return
        self.accounts[account][0] += free
        self.accounts[account][1] += frozen
        assert min(self.accounts[account][:2]) >= 0, "the ghost overdrew an account"

    def _score(self, account: str) -> int:
        return self.accounts[account][2]

    def _pay_settlement(self, record: DealRecord, settlement: Settlement) -> None:
        """What finalize and contributeAndFinalize pay beyond the workers' stakes."""
        self._move(record.requester, frozen=-record.task_price())
        self._move(record.app_owner, free=settlement.app_reward)
        self._move(record.dataset_owner, free=settlement.dataset_reward)
        stake = pool_stake(record.workerpool_price)
        paid = stake + settlement.scheduler_reward + settlement.kitty_bonus
        self._move(record.workerpool_owner, free=paid, frozen=-stake)
        self.kitty -= settlement.kitty_bonus
        for worker, reward in settlement.worker_rewards.items():
            self._move(worker, free=reward)

    # -- candidates --------------------------------------------------------------

    def _tasks(self) -> list[TaskGhost]:
        return [t for d in self.deals for t in d.tasks]

    def _initializable(self) -> list[TaskGhost]:
        return [t for t in self._tasks() if t.status == UNSET and not t.deal.one_transaction]

    def _contributable(self) -> list[TaskGhost]:
        return [
            t
            for t in self._tasks()
            if t.status == ACTIVE
            and now() < t.deal.contribution_deadline
            and len(t.contributions) < len(LIFECYCLE_WORKERS)
        ]

    def _revealable(self) -> list[tuple[TaskGhost, ContributionGhost]]:
        return [
            (t, c)
            for t in self._tasks()
            if t.status == REVEALING and now() < t.reveal_deadline
            for c in t.contributions.values()
            if t.vote(c.result) == t.consensus_value
            and c.round == t.round  # a reopen voids the older rounds' votes
            and not c.revealed
            and not c.silent
        ]

    def _finalizable(self) -> list[TaskGhost]:
        return [
            t
            for t in self._tasks()
            if t.status == REVEALING
            and now() < t.deal.final_deadline
            and (t.reveals == t.winners or (t.reveals > 0 and now() >= t.reveal_deadline))
        ]

    def _reopenable(self) -> list[TaskGhost]:
        return [
            t
            for t in self._tasks()
            if t.status == REVEALING
            and t.reveals == 0
            and t.round < MAX_ROUND
            and t.reveal_deadline <= now() < t.deal.final_deadline
        ]

    def _claimable(self) -> list[TaskGhost]:
        return [
            t
            for t in self._tasks()
            if t.status in (UNSET, ACTIVE, REVEALING) and now() >= t.deal.final_deadline
        ]

    def _completable_at_once(self) -> list[TaskGhost]:
        return [
            t
            for t in self._tasks()
            if t.deal.one_transaction and t.status == UNSET and now() < t.deal.contribution_deadline
        ]

    def _unsettled(self) -> list[TaskGhost]:
        return [t for t in self._tasks() if t.status in (UNSET, ACTIVE, REVEALING)]

    def _live_deals(self) -> set[int]:
        return {t.deal.number for t in self._unsettled()}

    @staticmethod
    def _pick(data: Data, options: Sequence[Any], label: str) -> Any:
        if isinstance(data, Script):
            return data.pick(options)
        return data.draw(st.sampled_from(options), label=label)

    def _settled(self) -> list[TaskGhost]:
        """Completed or claimed tasks not yet tried again (each is tried once)."""
        return [t for t in self._tasks() if t.status in (COMPLETED, FAILED) and not t.retried]

    # -- rules -------------------------------------------------------------------

    @initialize(
        scores=st.lists(
            st.sampled_from([0, 0, 0, 12, 30, 100, 300]),
            min_size=len(LIFECYCLE_WORKERS),
            max_size=len(LIFECYCLE_WORKERS),
        ),
    )
    def workers_have_reputations(self, scores: list[int]) -> None:
        for worker, score in zip(LIFECYCLE_WORKERS, scores, strict=True):
            self.hub.set_score(worker.address, score)
            self.accounts[worker.address][2] = score

    @precondition(
        lambda self: len(self.deals) < MAX_DEALS and len(self._live_deals()) < MAX_LIVE_DEALS
    )
    @rule(
        trust=st.sampled_from([5, 100, 1]),
        volume=st.integers(1, 3),
        app_price=prices,
        dataset_price=st.none() | prices,
        pool_price=prices,
        stake_ratio=st.integers(0, 100),
        scheduler_ratio=st.integers(0, 100),
    )
    def requester_opens_a_deal(
        self,
        trust: int,
        volume: int,
        app_price: int,
        dataset_price: int | None,
        pool_price: int,
        stake_ratio: int,
        scheduler_ratio: int,
    ) -> None:
        deal_id, record = open_deal(
            self.p,
            self.roles,
            self.assets,
            app_price=app_price,
            dataset_price=dataset_price,
            pool_price=pool_price,
            trust=trust,
            stake_ratio=stake_ratio,
            scheduler_ratio=scheduler_ratio,
            volume=volume,
        )
        cost = record.task_price() * volume
        self._move(record.requester, free=-cost, frozen=cost)
        stake = pool_stake(pool_price) * volume
        self._move(record.workerpool_owner, free=-stake, frozen=stake)
        deal = DealGhost(len(self.deals) + 1, deal_id, record)
        for index, task_id in enumerate(record.task_ids(deal_id), start=record.bot_first):
            deal.tasks.append(TaskGhost(deal, index, task_id, Consensus(record.trust)))
        self.deals.append(deal)

    @precondition(lambda self: self._initializable())
    @rule(data=st.data())
    def scheduler_initializes_a_task(self, data: Data) -> None:
        task = self._pick(data, self._initializable(), "task")
        deal = task.deal
        self.p.initialize(deal.record, deal.deal_id, task.index, sender=self.roles.pool_owner)
        task.status = ACTIVE

    # honest results are likelier than each kind of fault
    behaviours = st.sampled_from(
        [Behaviour.HONEST, Behaviour.HONEST, Behaviour.SILENT, Behaviour.LYING, Behaviour.COLLUDING]
    )

    @precondition(lambda self: self._contributable())
    @rule(data=st.data(), behaviour=behaviours)
    def worker_contributes(self, data: Data, behaviour: Behaviour) -> None:
        self._contribute(data, behaviour)

    @precondition(lambda self: self._contributable())
    @rule(data=st.data(), behaviours=st.lists(behaviours, min_size=2, max_size=4))
    def workers_contribute_in_turn(self, data: Data, behaviours: list[Behaviour]) -> None:
        """Several workers contribute to one task in turn (while it takes contributions)."""
        task = self._pick(data, self._contributable(), "task")
        for behaviour in behaviours:
            if task in self._contributable():
                self._contribute(data, behaviour, task)

    def _contribute(self, data: Data, behaviour: Behaviour, task: TaskGhost | None = None) -> None:
        if task is None:
            task = self._pick(data, self._contributable(), "task")
        free = [w for w in LIFECYCLE_WORKERS if w.address not in task.contributions]
        worker = self._pick(data, free, "worker")
        result = {
            Behaviour.HONEST: RIGHT,
            Behaviour.SILENT: RIGHT,
            Behaviour.LYING: digest(f"the lie of {worker.name}"),
            Behaviour.COLLUDING: COLLUSION,
        }[behaviour]
        deal = task.deal

        contribute(
            self.p, deal.record, deal.deal_id, task.index, worker, self.roles.pool_owner, result
        )

        stake = deal.record.worker_stake
        self._move(worker.address, free=-stake, frozen=stake)
        w = weight(self._score(worker.address))
        task.contributions[worker.address] = ContributionGhost(
            worker, result, log2_weight(w), silent=behaviour is Behaviour.SILENT, round=task.round
        )
        vote = task.vote(result)
        task.consensus = task.consensus.contribute(vote, w)
        task.members[vote] = task.members.get(vote, 0) + 1
        if task.consensus.reached() is not None:
            assert task.consensus.reached() == vote  # only the group joined can tip it
            task.status = REVEALING
            task.consensus_value = vote
            task.winners = task.members[vote]
            task.reveal_deadline = now() + 2 * deal.record.time_ref

    @precondition(lambda self: self._revealable())
    @rule(data=st.data())
    def winner_reveals(self, data: Data) -> None:
        task, contribution = self._pick(data, self._revealable(), "reveal")

        self.p.reveal(task.task_id, contribution.worker, contribution.result)

        contribution.revealed = True
        task.reveals += 1

    @precondition(lambda self: self._finalizable())
    @rule(data=st.data())
    def scheduler_finalizes(self, data: Data) -> None:
        task = self._pick(data, self._finalizable(), "task")
        record = task.deal.record
        contributions = list(task.contributions.values())
        settlement = settle(
            app_price=record.app_price,
            dataset_price=record.dataset_price,
            workerpool_price=record.workerpool_price,
            worker_stake=record.worker_stake,
            scheduler_reward_ratio=record.scheduler_reward_ratio,
            contributors=[
                Contributor(c.worker.address, c.log2_weight, c.revealed) for c in contributions
            ],
            kitty=self.kitty,
            scores={c.worker.address: self._score(c.worker.address) for c in contributions},
        )
        before = {c.worker.address: self._chain_account(c.worker.address) for c in contributions}

        self.p.finalize(record, task.deal.deal_id, task.index, task.contributors, RESULTS)

        # only wrong or unrevealed contributors lose their stake and score (read on chain)
        stake = record.worker_stake
        for c in contributions:
            (free, frozen, score), (free_after, frozen_after, score_after) = (
                before[c.worker.address],
                self._chain_account(c.worker.address),
            )
            if c.revealed:
                assert free_after >= free + stake and frozen_after == frozen - stake
                assert score_after >= score
            else:
                assert (free_after, frozen_after) == (free, frozen - stake)
                assert score_after == score * 2 // 3
        for c in contributions:
            self._move(c.worker.address, frozen=-stake, free=stake if c.revealed else 0)
            self.accounts[c.worker.address][2] = settlement.scores[c.worker.address]
        self._pay_settlement(record, settlement)
        task.status = COMPLETED

    @precondition(lambda self: self._reopenable())
    @rule(data=st.data())
    def scheduler_reopens(self, data: Data) -> None:
        task = self._pick(data, self._reopenable(), "task")
        deal = task.deal
        with boa.env.prank(self.roles.pool_owner.address):
            self.hub.reopen(deal.record.as_tuple(), deal.deal_id, task.index)

        task.consensus = task.consensus.without(task.consensus_value)
        del task.members[task.consensus_value]
        task.status = ACTIVE
        task.consensus_value = bytes(32)
        task.winners = 0
        task.reveal_deadline = 0
        task.round += 1

    @precondition(lambda self: self._claimable())
    @rule(data=st.data())
    def anyone_claims(self, data: Data) -> None:
        task = self._pick(data, self._claimable(), "task")
        claimer = self._pick(data, self.actors, "claimer")
        record = task.deal.record
        price = refund(
            app_price=record.app_price,
            dataset_price=record.dataset_price,
            workerpool_price=record.workerpool_price,
        )
        free, frozen, _ = self._chain_account(record.requester)

        with boa.env.prank(claimer.address):
            self.hub.claim(
                record.as_tuple(),
                task.deal.deal_id,
                task.index,
                [a.address for a in task.contributors],
            )

        # the requester gets exactly the task's price back
        assert self._chain_account(record.requester)[:2] == (free + price, frozen - price)
        self._move(record.requester, free=price, frozen=-price)
        stake = pool_stake(record.workerpool_price)
        self._move(record.workerpool_owner, frozen=-stake)
        self.kitty += stake
        for c in task.contributions.values():
            self._move(c.worker.address, free=record.worker_stake, frozen=-record.worker_stake)
        task.status = FAILED

    @precondition(lambda self: self._completable_at_once())
    @rule(data=st.data())
    def worker_completes_a_trust_1_task_at_once(self, data: Data) -> None:
        task = self._pick(data, self._completable_at_once(), "task")
        worker = self._pick(data, LIFECYCLE_WORKERS, "worker")
        record = task.deal.record
        settlement = settle_fast(
            app_price=record.app_price,
            dataset_price=record.dataset_price,
            workerpool_price=record.workerpool_price,
            scheduler_reward_ratio=record.scheduler_reward_ratio,
            kitty=self.kitty,
            worker=worker.address,
        )

        self._complete_at_once(task, worker)

        self._pay_settlement(record, settlement)
        task.status = COMPLETED

    @precondition(lambda self: self._settled())
    @rule(data=st.data())
    def paying_a_task_twice_is_refused(self, data: Data) -> None:
        task = self._pick(data, self._settled(), "task")
        deal = task.deal
        contributors = [a.address for a in task.contributors]
        root = self.p.state_root()

        with boa.reverts("poco: task not revealing"):
            self.p.finalize(deal.record, deal.deal_id, task.index, task.contributors, RESULTS)
        claimed = "poco: task already claimed" if task.status == FAILED else None
        with boa.reverts(claimed or "poco: task already completed"):
            self.hub.claim(deal.record.as_tuple(), deal.deal_id, task.index, contributors)
        if deal.one_transaction:
            # a claimed trust-1 task is past its final deadline, so past its contribution deadline
            done = "poco: task already completed" if task.status == COMPLETED else None
            with boa.reverts(done or "poco: contribution deadline passed"):
                self._complete_at_once(task, LIFECYCLE_WORKERS[0])

        assert self.p.state_root() == root
        task.retried = True

    # time matters while a task is unsettled (and is all that is left once
    # every deal of the run is settled)
    @precondition(lambda self: self._unsettled() or len(self.deals) == MAX_DEALS)
    @rule(periods=st.sampled_from([1, 1, 1, 2, 3]))
    def time_passes(self, periods: int) -> None:
        boa.env.time_travel(seconds=periods * TIME_REF)

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def money_is_conserved(self) -> None:
        held = sum(free + frozen for free, frozen, _ in self._chain_ledger().values())
        assert held + self.hub.kitty() == self.p.rlc.balanceOf(self.hub.address)

    @invariant()
    def accounts_are_their_ghosts(self) -> None:
        for actor, row in zip(self.actors, self._chain_ledger().values(), strict=True):
            assert list(row) == self.accounts[actor.address], actor
        assert self.hub.kitty() == self.kitty

    @invariant()
    def tasks_are_their_ghosts(self) -> None:
        for task in self._tasks():
            view = self.hub.viewTask(task.task_id)
            expected = (task.status, len(task.contributions), task.reveals, task.winners)
            assert (view.status, view.contributors, view.reveals, view.winners) == expected, task
            assert bytes(view.consensus_value) == task.consensus_value, task
            assert (view.reveal_deadline, view.round) == (task.reveal_deadline, task.round), task

    # -- helpers ---------------------------------------------------------------------

    def _chain_ledger(self) -> dict[str, tuple[int, int, int]]:
        """(free, frozen, score) of every actor, read from the hub's storage."""
        rows = stored_accounts(self.hub, [a.address for a in self.actors])
        return dict(zip((a.address for a in self.actors), rows, strict=True))

    def _chain_account(self, account: str) -> tuple[int, int, int]:
        """(free, frozen, score) of one account, through the hub's public views."""
        return (
            self.hub.balanceOf(account),
            self.hub.frozenOf(account),
            self.hub.scoreOf(account),
        )

    def _complete_at_once(self, task: TaskGhost, worker: Actor) -> None:
        deal = task.deal
        authorization = self.p.authorize(self.roles.pool_owner, worker, task.task_id)
        with boa.env.prank(worker.address):
            self.hub.contributeAndFinalize(
                deal.record.as_tuple(),
                deal.deal_id,
                task.index,
                RIGHT,
                RESULTS,
                b"",
                ZERO_ADDRESS,
                b"",
                authorization,
            )


def test_stored_accounts_are_what_the_views_say(poco: Protocol, roles: Roles, funded: None) -> None:
    """The machine reads accounts from storage: it reads what the public views return."""
    worker = WORKERS[0]
    poco.hub.set_score(worker.address, 77)
    with boa.env.prank(roles.requester.address):
        poco.hub.withdraw(12345)
    deal_id, record = open_deal(
        poco, roles, register_assets(poco, roles), app_price=3, pool_price=10**9, trust=5
    )
    poco.initialize(record, deal_id, 0)
    contribute(poco, record, deal_id, 0, worker, roles.pool_owner, RIGHT)
    actors = [*roles.all, worker, Actor.named("nobody")]

    rows = stored_accounts(poco.hub, [a.address for a in actors])

    assert rows == [
        (poco.hub.balanceOf(a.address), poco.hub.frozenOf(a.address), poco.hub.scoreOf(a.address))
        for a in actors
    ]
    assert rows[0] == (FUNDS - 12345 - record.task_price(), record.task_price(), 0)
    assert rows[4] == (FUNDS - record.worker_stake, record.worker_stake, 77)
    assert rows[5] == (0, 0, 0)


def test_poco_lifecycle_keeps_money_and_matches_the_ghost(
    poco: Protocol, roles: Roles, assets: Assets, funded: None
) -> None:
    # the profile's examples (40 under "ci", about 25 s), each a run of up to 50 steps
    run_state_machine_as_test(
        lambda: PocoLifecycle(poco, roles, assets),
        settings=settings(stateful_step_count=50),
    )


# -- scripted runs: every path of the lifecycle, whatever hypothesis draws ----------
#
# Hypothesis turns random subsets of rules off in each run (swarm testing), so
# a random run that opens, contributes, reveals and finalizes is rare among a
# CI budget's few runs. These scenarios play the same rules by hand, checking
# the invariants after each step, so every path is exercised on every run.

H, S, L, C = Behaviour.HONEST, Behaviour.SILENT, Behaviour.LYING, Behaviour.COLLUDING
PRICES = {"app_price": 10**9, "dataset_price": None, "pool_price": 3 * 10**9}


@pytest.fixture
def machine(poco: Protocol, roles: Roles, assets: Assets, funded: None):
    run = PocoLifecycle(poco, roles, assets)
    yield run
    run.teardown()


def play(run: PocoLifecycle, rule_name: str, *choosers: Callable[[Any], bool], **params: Any):
    """Runs one rule with these picks and parameters, then checks every invariant."""
    method = getattr(run, rule_name)
    if "data" in method.__code__.co_varnames:
        params["data"] = Script(*choosers)
    method(**params)
    run.money_is_conserved()
    run.accounts_are_their_ghosts()
    run.tasks_are_their_ghosts()


def task(deal: int, index: int = 0) -> Callable[[TaskGhost], bool]:
    return lambda t: (t.deal.number, t.index) == (deal, index)


def worker(n: int) -> Callable[[Actor], bool]:
    return lambda w: w == WORKERS[n - 1]


def revealer(n: int) -> Callable[[tuple[TaskGhost, ContributionGhost]], bool]:
    return lambda pair: pair[1].worker == WORKERS[n - 1]


def open_(run: PocoLifecycle, trust: int, volume: int = 1, **terms: Any) -> None:
    terms = {**PRICES, "stake_ratio": 30, "scheduler_ratio": 10, **terms}
    play(run, "requester_opens_a_deal", trust=trust, volume=volume, **terms)


def contribute_in_turn(run: PocoLifecycle, deal: int, *votes: tuple[int, Behaviour]) -> None:
    workers = [worker(n) for n, _ in votes]
    play(run, "workers_contribute_in_turn", task(deal), *workers, behaviours=[b for _, b in votes])


def account(run: PocoLifecycle, n: int) -> tuple[int, int, int]:
    return run._chain_account(WORKERS[n - 1].address)


def the_task(run: PocoLifecycle, deal: int, index: int = 0) -> TaskGhost:
    return next(t for t in run._tasks() if task(deal, index)(t))


def test_scripted_honest_majority_is_paid_and_the_liar_loses_its_stake(machine):
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=5)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, L), (3, H), (4, H), (5, H))
    t = the_task(machine, 1)
    assert (t.status, t.winners) == (REVEALING, 4)  # 16 * 5 > (1 + 16 + 2) * 4
    for n in (1, 3, 4, 5):
        play(machine, "winner_reveals", revealer(n))
    play(machine, "scheduler_finalizes", task(1))
    play(machine, "paying_a_task_twice_is_refused", task(1))

    stake = 9 * 10**8  # 30% of the pool price
    share = (3 * 10**9 + stake) * 90 // 100 // 4  # pool price + the liar's stake, 90%, 4 ways
    assert account(machine, 2) == (FUNDS - stake, 0, 0)
    assert account(machine, 1) == (FUNDS + share, 0, 1)


def test_scripted_colluding_majority_wins_and_the_honest_worker_loses(machine):
    """PoCo's rule is the heaviest group: four fresh colluders outweigh one honest worker."""
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=5)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, C), (3, C), (4, C), (5, C))
    t = the_task(machine, 1)
    assert t.consensus_value == t.vote(COLLUSION)
    for n in (2, 3, 4, 5):
        play(machine, "winner_reveals", revealer(n))
    play(machine, "scheduler_finalizes", task(1))

    assert account(machine, 1)[:2] == (FUNDS - 9 * 10**8, 0)


def test_scripted_veterans_outweigh_colluders_at_trust_100(machine):
    """SPEC §3's weights: scores 300 and 100 (99 x 32 = 3168) beat three colluders of score 12."""
    play(machine, "workers_have_reputations", scores=[300, 100, 12, 12, 12, 0, 0])
    open_(machine, trust=100)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (3, C), (4, C), (5, C), (1, H))
    assert the_task(machine, 1).status == ACTIVE
    contribute_in_turn(machine, 1, (2, H))  # 3168 * 100 > (1 + 3168 + 27) * 99
    assert the_task(machine, 1).status == REVEALING
    play(machine, "winner_reveals", revealer(1))
    play(machine, "winner_reveals", revealer(2))
    play(machine, "scheduler_finalizes", task(1))

    pot = (3 * 10**9 + 3 * 9 * 10**8) * 90 // 100
    assert [account(machine, n)[2] for n in (1, 2, 3, 4, 5)] == [301, 101, 8, 8, 8]
    assert account(machine, 1)[0] == FUNDS + pot * 6 // 11  # log2(99) = 6, log2(32) = 5
    assert account(machine, 2)[0] == FUNDS + pot * 5 // 11


def test_scripted_silent_winners_are_reopened_and_lose_their_stake(machine):
    play(machine, "workers_have_reputations", scores=[0, 0, 0, 0, 0, 0, 0])
    open_(machine, trust=5)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, S), (2, S), (3, S))
    assert the_task(machine, 1).status == REVEALING
    assert not machine._reopenable()
    play(machine, "time_passes", periods=2)
    play(machine, "scheduler_reopens", task(1))
    contribute_in_turn(machine, 1, (4, H), (5, H), (6, H))
    for n in (4, 5, 6):
        play(machine, "winner_reveals", revealer(n))
    play(machine, "scheduler_finalizes", task(1))

    assert [account(machine, n)[:2] for n in (1, 2, 3)] == [(FUNDS - 9 * 10**8, 0)] * 3
    assert [account(machine, n)[2] for n in (4, 5, 6)] == [1, 1, 1]


def test_scripted_first_round_winner_cannot_reveal_after_a_reopen(machine, poco):
    """A reopen voids the first round's votes, even when the second round agrees with them."""
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=5)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, S), (3, S))
    play(machine, "time_passes", periods=2)
    play(machine, "scheduler_reopens", task(1))
    contribute_in_turn(machine, 1, (4, H), (5, H), (6, H))
    t = the_task(machine, 1)
    assert t.round == 1
    assert [c.worker for _, c in machine._revealable()] == list(WORKERS[3:6])
    root = poco.state_root()
    with boa.reverts("poco: contribution from before a reopen"):
        poco.reveal(t.task_id, WORKERS[0], RIGHT)
    assert poco.state_root() == root
    for n in (4, 5, 6):
        play(machine, "winner_reveals", revealer(n))
    play(machine, "scheduler_finalizes", task(1))

    assert [account(machine, n)[:2] for n in (1, 2, 3)] == [(FUNDS - 9 * 10**8, 0)] * 3


def test_scripted_unrevealed_winner_loses_once_the_reveal_deadline_passes(machine):
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=5, stake_ratio=50, scheduler_ratio=0)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, S), (3, H))
    play(machine, "winner_reveals", revealer(1))
    play(machine, "winner_reveals", revealer(3))
    assert not machine._finalizable()  # 2 of 3 winners revealed, deadline ahead
    play(machine, "time_passes", periods=2)
    play(machine, "scheduler_finalizes", task(1))

    stake = 15 * 10**8
    assert account(machine, 2) == (FUNDS - stake, 0, 0)
    assert account(machine, 1) == (FUNDS + (3 * 10**9 + stake) // 2, 0, 1)


def test_scripted_claim_without_consensus_refunds_the_requester_and_fills_the_kitty(machine, roles):
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=100)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, H), (3, H), (4, L))
    assert the_task(machine, 1).status == ACTIVE  # 8 * 100 <= (1 + 8 + 2) * 99
    for periods in (3, 3, 3, 1):
        play(machine, "time_passes", periods=periods)
    play(machine, "anyone_claims", task(1), worker(7))
    play(machine, "paying_a_task_twice_is_refused", task(1))
    assert machine.hub.kitty() == 9 * 10**8
    assert [account(machine, n) for n in (1, 2, 3, 4)] == [(FUNDS, 0, 0)] * 4

    open_(machine, trust=1)  # the next completed task's scheduler gets the kitty
    pool_owner_free = machine._chain_account(roles.pool_owner.address)[0]
    play(machine, "worker_completes_a_trust_1_task_at_once", task(2), worker(5))

    assert machine.hub.kitty() == 0  # below 1 RLC: the whole kitty is the bonus
    paid = machine._chain_account(roles.pool_owner.address)[0] - pool_owner_free
    assert paid == 9 * 10**8 + 3 * 10**8 + 9 * 10**8  # stake back, 10% of the price, kitty


def test_scripted_claim_of_a_revealing_task_frees_every_stake(machine):
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=5)
    play(machine, "scheduler_initializes_a_task", task(1))
    contribute_in_turn(machine, 1, (1, H), (2, H), (3, H))
    play(machine, "winner_reveals", revealer(1))
    for periods in (3, 3, 3, 1):
        play(machine, "time_passes", periods=periods)
    assert not machine._finalizable()
    play(machine, "anyone_claims", task(1), worker(1))
    play(machine, "paying_a_task_twice_is_refused", task(1))

    assert [account(machine, n) for n in (1, 2, 3)] == [(FUNDS, 0, 0)] * 3


def test_scripted_trust_1_tasks_complete_at_once_or_are_claimed(machine):
    play(machine, "workers_have_reputations", scores=[0] * 7)
    open_(machine, trust=1, volume=2, dataset_price=5 * 10**8)
    play(machine, "worker_completes_a_trust_1_task_at_once", task(1, 0), worker(2))
    play(machine, "paying_a_task_twice_is_refused", task(1, 0))
    for periods in (3, 3, 3, 1):
        play(machine, "time_passes", periods=periods)
    assert not machine._completable_at_once()
    play(machine, "anyone_claims", task(1, 1), worker(3))
    play(machine, "paying_a_task_twice_is_refused", task(1, 1))

    assert account(machine, 2) == (FUNDS + 3 * 10**9 * 90 // 100, 0, 0)  # no stake, no score
