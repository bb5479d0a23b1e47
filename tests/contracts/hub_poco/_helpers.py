"""Helpers for the hub's PoCo tests: matched deals, funded workers, and their tasks.

`MatchedDeal` is a deal the market made (its id and the record from
`DealCreated`) with its pool owner, and speaks the hub's task calls for it:
`initialize`, `contribute` (with any vote, seal, authorization or enclave),
`reveal`, `reopen`, and the views. Indices default to the deal's first task.
`reach_consensus` drives fresh agreeing workers into a task until the hub
says consensus, checking each step against `nuage.protocol.consensus`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import boa
from eth_utils import keccak, to_canonical_address

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.consensus import Consensus, weight
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import (
    TaskStatus,
    result_hash,
    result_seal,
    sign_authorization,
    sign_enclave_result,
)
from tests.contracts import deployers
from tests.contracts.harness import Actor, Deal, Protocol

PRICE = 10**9  # app and workerpool price of every test deal, in nRLC
WORKER_FUNDS = 10 * 10**9  # what each funded worker deposits
T = 300  # category 0's time reference, in seconds
CONTRIBUTION_DELAY = 7 * T
REVEAL_DELAY = 2 * T
FINAL_DELAY = 10 * T
MAX_CONTRIBUTORS = 64
COMMIT_MASK = (2**256 - 1) ^ (2**16 - 1)  # the hub keeps the top 240 bits of a commitment
ZERO_BYTES32 = b"\x00" * 32

_ACCOUNTS_SLOT = deployers.HUB.compiler_data.storage_layout["storage_layout"]["escrow"][
    "_accounts"
]["slot"]

RESULT = keccak(text="the result")  # the honest workers' digest
LIE = keccak(text="a wrong result")  # a disagreeing worker's digest


def events(contract: Any, name: str, called: Any = None) -> list[Any]:
    """The `name` events `contract` emitted in the last call to `called` (itself by default).

    Read them right after the call: any later call, a view included, replaces
    what `get_logs` sees.
    """
    return [
        log
        for log in (called or contract).get_logs()
        if type(log).__name__ == name and str(log.address) == str(contract.address)
    ]


def commitment_of(vote: bytes, seal: bytes) -> bytes:
    """What the hub keeps of a contribution: the top 240 bits of keccak256(vote ++ seal)."""
    return (int.from_bytes(keccak(vote + seal), "big") & COMMIT_MASK).to_bytes(32, "big")


def assert_refused(protocol: Protocol, reason: str, call: Any, *args: Any, **kwargs: Any) -> None:
    """`call(*args, **kwargs)` reverts with exactly `reason` and nothing on chain moves."""
    root = protocol.state_root()
    with boa.reverts(reason):
        call(*args, **kwargs)
    assert protocol.state_root() == root


def set_score(protocol: Protocol, worker: Actor, score: int) -> None:
    """Writes `worker`'s score into the hub's storage, balances untouched.

    Earning a score takes one replicated task per point; tests of how a
    score weighs (contribute, finalize) set it instead. The slot is
    keccak256(slot of `escrow._accounts` ++ address), read from the layout.
    """
    base = _ACCOUNTS_SLOT.to_bytes(32, "big")
    slot = int.from_bytes(keccak(base + bytes(12) + to_canonical_address(worker.address)), "big")
    word = boa.env.get_storage(protocol.hub.address, slot)
    boa.env.set_storage(protocol.hub.address, slot, word % 2**192 | score << 192)
    assert protocol.hub.scoreOf(worker.address) == score


def funded_workers(protocol: Protocol, count: int, first: int = 0) -> list[Actor]:
    """Workers `worker {first}` .. `worker {first + count - 1}`, each with RLC deposited."""
    workers = [Actor.named(f"worker {i}") for i in range(first, first + count)]
    with boa.env.prank(protocol.deployer.address):
        protocol.rlc.approve(protocol.hub.address, WORKER_FUNDS * count)
        for worker in workers:
            protocol.hub.depositFor(WORKER_FUNDS, worker.address)
    return workers


def with_tag(protocol: Protocol, deal: Deal, tag: bytes, owners: dict[str, Actor]) -> Deal:
    """`deal` with `tag` on its app, workerpool and request orders, each signed again.

    `owners` names the signer of each order kind ("app", "workerpool", "request").
    """
    signed = {
        kind: dataclasses.replace(getattr(deal, kind), tag=tag).signed(
            owners[kind].key, protocol.domain
        )
        for kind in ("app", "workerpool", "request")
    }
    return Deal(dataset=deal.dataset, **signed)


@dataclasses.dataclass(frozen=True)
class MatchedDeal:
    """A deal the market made, its record, and the hub's task calls for it."""

    protocol: Protocol
    deal_id: bytes
    record: DealRecord
    pool_owner: Actor

    @property
    def hub(self) -> Any:
        return self.protocol.hub

    @property
    def first(self) -> int:
        return self.record.bot_first

    def args(self) -> tuple[Any, ...]:
        """The (deal, deal id) pair every deal-taking hub function starts with."""
        return self.record.as_tuple(), self.deal_id

    def task_id(self, index: int | None = None) -> bytes:
        index = self.first if index is None else index
        return keccak(self.deal_id + index.to_bytes(32, "big"))

    def initialize(self, index: int | None = None, sender: Actor | None = None) -> bytes:
        index = self.first if index is None else index
        return self.protocol.initialize(self.record, self.deal_id, index, sender)

    def authorize(
        self, worker: Actor, index: int | None = None, enclave: str = ZERO_ADDRESS
    ) -> bytes:
        """The pool owner's authorization for `worker` on task `index`."""
        return self.protocol.authorize(self.pool_owner, worker, self.task_id(index), enclave)

    def contribute(
        self,
        worker: Actor,
        digest: bytes = RESULT,
        index: int | None = None,
        *,
        vote: bytes | None = None,
        seal: bytes | None = None,
        authorization: bytes | None = None,
        enclave: str = ZERO_ADDRESS,
        enclave_sign: bytes = b"",
        record: DealRecord | None = None,
    ) -> None:
        """`worker` contributes `digest` (or the given vote / seal) to task `index`."""
        index = self.first if index is None else index
        task = self.task_id(index)
        vote = result_hash(task, digest) if vote is None else vote
        seal = result_seal(worker.address, task, digest) if seal is None else seal
        if authorization is None:
            authorization = self.authorize(worker, index, enclave)
        with boa.env.prank(worker.address):
            self.hub.contribute(
                (record or self.record).as_tuple(),
                self.deal_id,
                index,
                vote,
                seal,
                enclave,
                enclave_sign,
                authorization,
            )

    def contribute_in_enclave(
        self, worker: Actor, enclave: Actor, digest: bytes = RESULT, **options: Any
    ) -> None:
        """`worker` contributes `digest` through `enclave`, which signs the result."""
        task = self.task_id(options.get("index"))
        vote, seal = result_hash(task, digest), result_seal(worker.address, task, digest)
        signed = sign_enclave_result(enclave.key, self.protocol.hub_domain, vote, seal)
        options.setdefault("enclave_sign", signed)
        self.contribute(worker, digest, enclave=enclave.address, **options)

    def reveal(self, worker: Actor, digest: bytes = RESULT, index: int | None = None) -> None:
        self.protocol.reveal(self.task_id(index), worker, digest)

    def reopen(self, sender: Actor | None = None, index: int | None = None) -> None:
        index = self.first if index is None else index
        with boa.env.prank((sender or self.pool_owner).address):
            self.hub.reopen(*self.args(), index)

    def task(self, index: int | None = None) -> dict[str, Any]:
        """`viewTask` of task `index`, as a dict."""
        return dict(self.hub.viewTask(self.task_id(index))._asdict())

    def status(self, index: int | None = None) -> int:
        return int(self.hub.viewTask(self.task_id(index)).status)

    def contribution(self, worker: Actor, index: int | None = None) -> dict[str, Any]:
        """`viewContribution` of `worker` on task `index`, as a dict."""
        return dict(self.hub.viewContribution(self.task_id(index), worker.address)._asdict())

    def contribute_and_finalize_args(
        self,
        worker: Actor,
        digest: bytes = RESULT,
        index: int | None = None,
        results: bytes = b"\x01" * 32,
    ) -> tuple[Any, ...]:
        """Every argument of `contributeAndFinalize` for `worker` (trust-1 deals, no callback)."""
        index = self.first if index is None else index
        authorization = sign_authorization(
            self.pool_owner.key, self.protocol.hub_domain, worker.address, self.task_id(index)
        )
        return (*self.args(), index, digest, results, b"", ZERO_ADDRESS, b"", authorization)

    def contribute_and_finalize(self, worker: Actor, **options: Any) -> None:
        with boa.env.prank(worker.address):
            self.hub.contributeAndFinalize(*self.contribute_and_finalize_args(worker, **options))


def reach_consensus(
    deal: MatchedDeal,
    workers: Sequence[Actor],
    digest: bytes = RESULT,
    index: int | None = None,
    state: Consensus | None = None,
) -> list[Actor]:
    """Fresh `workers` contribute `digest` in turn until the hub reaches consensus.

    After every contribution the hub's status must be what the mirror
    (`nuage.protocol.consensus`, from `state`, the task's groups so far)
    says. Returns the workers who contributed; fails when `workers` run out.
    """
    state = state or Consensus(deal.record.trust)
    vote = result_hash(deal.task_id(index), digest)
    for count, worker in enumerate(workers, start=1):
        deal.contribute(worker, digest, index)
        state = state.contribute(vote, weight(0))
        reached = state.reached() == vote
        assert deal.status(index) == (TaskStatus.REVEALING if reached else TaskStatus.ACTIVE)
        if reached:
            return list(workers[:count])
    raise AssertionError(f"no consensus after {len(workers)} workers")
