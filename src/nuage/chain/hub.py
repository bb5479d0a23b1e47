"""Typed Proof-of-Contribution calls into the hub, for the scheduler and the workers.

`Hub` speaks the hub's task functions with Python types in and out: the scheduler's
(`initialize_tasks`, `finalize_tasks`, `reopen`, batched where the hub allows), the workers'
(`contribute`, `reveal`, `contribute_and_finalize`), anyone's (`claim_tasks`), and the views
(`task`, `contribution`, `score`, `free_balance`, the deal's commitment). Registry records
and balances are `Contracts`' (`hub.contracts`).
Every write goes through `Chain.transact`: nonce-safe, retried, a refusal raised as
`ContractRevert` with the hub's reason.

A result's location on chain (`results`) is its blob id in nuage storage: the sha256 of the
zipped result, as 32 bytes (`blob_results`/`results_blob`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment
from nuage.protocol.deals import Deal
from nuage.protocol.eip712 import Domain
from nuage.protocol.ids import task_id
from nuage.protocol.poco import ZERO_ADDRESS, result_hash, result_seal, sign_authorization

__all__ = [
    "MAX_BATCH",
    "ContributionView",
    "DealCreated",
    "FinalizeItem",
    "Hub",
    "TaskView",
    "blob_results",
    "results_blob",
    "sorted_contributors",
]

CONTRIBUTE_GAS_MARGIN = 2.0  # see `contribute`

MAX_BATCH = 16  # poco.vy MAX_BATCH: tasks per initializeArray / finalizeArray / claimArray
MAX_CONTRIBUTORS = 64  # poco.vy MAX_CONTRIBUTORS


def blob_results(blob_id: str) -> bytes:
    """The `results` word of a result stored as blob `blob_id` (64 hex digits)."""
    raw = bytes.fromhex(blob_id)
    if len(raw) != 32:
        raise ValueError(f"{blob_id!r} is not a blob id (64 hex digits)")
    return raw


def results_blob(results: bytes) -> str:
    """The blob id a task's `results` word names."""
    return bytes(results).hex()


def sorted_contributors(workers: Iterable[str]) -> list[str]:
    """Contributors as finalize and claim want them: checksummed, in ascending address order."""
    return sorted((Web3.to_checksum_address(w) for w in workers), key=lambda a: int(a, 16))


@dataclass(frozen=True)
class TaskView:
    """`viewTask`: a task's state on chain (status values in `nuage.protocol.TaskStatus`)."""

    status: int
    contributors: int
    reveals: int
    winners: int
    contribution_deadline: int
    reveal_deadline: int
    final_deadline: int
    consensus_value: bytes
    result_digest: bytes
    results: bytes
    round: int

    @classmethod
    def from_tuple(cls, values: Sequence[Any]) -> TaskView:
        return cls(
            status=int(values[0]),
            contributors=int(values[1]),
            reveals=int(values[2]),
            winners=int(values[3]),
            contribution_deadline=int(values[4]),
            reveal_deadline=int(values[5]),
            final_deadline=int(values[6]),
            consensus_value=bytes(values[7]),
            result_digest=bytes(values[8]),
            results=bytes(values[9]),
            round=int(values[10]),
        )


@dataclass(frozen=True)
class ContributionView:
    """`viewContribution`: status 0 none, 1 contributed, 2 revealed; the round it was made in."""

    status: int
    log2_weight: int
    commitment: bytes
    round: int

    NONE = 0
    CONTRIBUTED = 1
    PROVED = 2


@dataclass(frozen=True)
class FinalizeItem:
    """One task of a `finalize_tasks` batch."""

    index: int
    results: bytes  # the result's blob id, as 32 bytes
    callback_data: bytes
    contributors: Sequence[str]  # every contributor of the task, any order

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.index,
            self.results,
            self.callback_data,
            sorted_contributors(self.contributors),
        )


@dataclass(frozen=True)
class DealCreated:
    """A `DealCreated` event of the market: the deal's id, record and the request's params."""

    deal_id: bytes
    deal: Deal
    params: str

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> DealCreated:
        return cls(bytes(args["deal_id"]), Deal.from_tuple(args["deal"]), str(args["params"]))


class Hub:
    """The hub's PoCo functions and views on one deployment."""

    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.chain: Chain = contracts.chain
        self.deployment: Deployment = contracts.deployment
        self.contract: Contract = contracts.hub
        self.market: Contract = contracts.market

    @property
    def domain(self) -> Domain:
        """The hub's EIP-712 domain, where authorizations are signed."""
        return Domain(chain_id=self.chain.chain_id, verifying_contract=self.contract.address)

    def watched_contracts(self) -> dict[str, list[dict[str, Any]]]:
        """{address: ABI} of the market and the hub, for an `EventWatcher`."""
        artifacts = self.chain.artifacts
        return {
            self.deployment.market: list(artifacts["Market"].abi),
            self.deployment.hub: list(artifacts["Hub"].abi),
        }

    # -- the scheduler's calls ----------------------------------------------------------------

    def authorize(
        self, pool_owner: LocalAccount, worker: str, task: bytes, enclave: str = ZERO_ADDRESS
    ) -> bytes:
        """The pool owner's signature letting `worker` contribute to `task`."""
        return sign_authorization(pool_owner.key, self.domain, worker, task, enclave)

    def initialize_tasks(
        self, sender: LocalAccount, deal: Deal, deal_id: bytes, indices: Sequence[int]
    ) -> list[TxReceipt]:
        """Initializes tasks of one deal, `MAX_BATCH` per transaction (`initialize` for one)."""
        receipts = []
        for batch in _batches(list(indices)):
            if len(batch) == 1:
                call = self.contract.functions.initialize(deal.as_tuple(), deal_id, batch[0])
            else:
                call = self.contract.functions.initializeArray(deal.as_tuple(), deal_id, batch)
            receipts.append(self.chain.transact(call, sender))
        return receipts

    def finalize_tasks(
        self, sender: LocalAccount, deal: Deal, deal_id: bytes, items: Sequence[FinalizeItem]
    ) -> list[TxReceipt]:
        """Finalizes tasks of one deal, `MAX_BATCH` per transaction (`finalize` for one)."""
        receipts = []
        for batch in _batches(list(items)):
            if len(batch) == 1:
                index, results, callback, contributors = batch[0].as_tuple()
                call = self.contract.functions.finalize(
                    deal.as_tuple(), deal_id, index, results, callback, contributors
                )
            else:
                call = self.contract.functions.finalizeArray(
                    deal.as_tuple(), deal_id, [item.as_tuple() for item in batch]
                )
            receipts.append(self.chain.transact(call, sender))
        return receipts

    def reopen(self, sender: LocalAccount, deal: Deal, deal_id: bytes, index: int) -> TxReceipt:
        return self.chain.transact(
            self.contract.functions.reopen(deal.as_tuple(), deal_id, index), sender
        )

    def claim_tasks(
        self,
        sender: LocalAccount,
        deal: Deal,
        deal_id: bytes,
        items: Sequence[tuple[int, Sequence[str]]],
    ) -> list[TxReceipt]:
        """Claims failed tasks of one deal: (index, contributors) each, batched."""
        receipts = []
        for batch in _batches(list(items)):
            call = self.contract.functions.claimArray(
                deal.as_tuple(),
                deal_id,
                [(index, sorted_contributors(workers)) for index, workers in batch],
            )
            receipts.append(self.chain.transact(call, sender))
        return receipts

    # -- the workers' calls --------------------------------------------------------------------

    def contribute(
        self,
        worker: LocalAccount,
        deal: Deal,
        deal_id: bytes,
        index: int,
        digest: bytes,
        authorization: bytes,
    ) -> TxReceipt:
        """Commits `worker` to `digest` for the task (its stake is locked)."""
        task = task_id(deal_id, index)
        call = self.contract.functions.contribute(
            deal.as_tuple(),
            deal_id,
            index,
            result_hash(task, digest),
            result_seal(worker.address, task, digest),
            ZERO_ADDRESS,
            b"",
            authorization,
        )
        # estimated alone, a contribution may land as the one that reaches consensus, which
        # writes more: without room it would run out of gas
        return self.chain.transact(call, worker, gas_margin=CONTRIBUTE_GAS_MARGIN)

    def reveal(self, worker: LocalAccount, task: bytes, digest: bytes) -> TxReceipt:
        return self.chain.transact(self.contract.functions.reveal(task, digest), worker)

    def contribute_and_finalize(
        self,
        worker: LocalAccount,
        deal: Deal,
        deal_id: bytes,
        index: int,
        digest: bytes,
        results: bytes,
        callback_data: bytes,
        authorization: bytes,
    ) -> TxReceipt:
        """The one-transaction path of trust <= 1: hands in the result; everyone is paid."""
        call = self.contract.functions.contributeAndFinalize(
            deal.as_tuple(),
            deal_id,
            index,
            digest,
            results,
            callback_data,
            ZERO_ADDRESS,
            b"",
            authorization,
        )
        return self.chain.transact(call, worker)

    # -- views ---------------------------------------------------------------------------------

    def task(self, task: bytes) -> TaskView:
        return TaskView.from_tuple(self.contract.functions.viewTask(task).call())

    def contribution(self, task: bytes, worker: str) -> ContributionView:
        status, log2_weight, commitment, round_ = self.contract.functions.viewContribution(
            task, Web3.to_checksum_address(worker)
        ).call()
        return ContributionView(int(status), int(log2_weight), bytes(commitment), int(round_))

    def deal_commitment(self, deal_id: bytes) -> bytes:
        """What the hub stores for the deal (zero bytes for no deal)."""
        return bytes(self.contract.functions.viewDeal(deal_id).call())

    def score(self, address: str) -> int:
        return int(self.contract.functions.scoreOf(Web3.to_checksum_address(address)).call())

    def free_balance(self, address: str) -> int:
        return int(self.contract.functions.balanceOf(Web3.to_checksum_address(address)).call())

    def authorization_hash(self, worker: str, task: bytes) -> bytes:
        return bytes(
            self.contract.functions.authorizationHash(
                Web3.to_checksum_address(worker), task, ZERO_ADDRESS
            ).call()
        )

    def finalized(self, task: bytes, from_block: int | None = None) -> tuple[bytes, bytes] | None:
        """(results, digest) from the task's `TaskFinalized` event, or None before it."""
        logs = self.contract.events.TaskFinalized().get_logs(
            from_block=self.deployment.block if from_block is None else from_block,
            argument_filters={"task_id": task},
        )
        if not logs:
            return None
        args = logs[-1]["args"]
        return bytes(args["results"]), bytes(args["result_digest"])

    def genesis_hash(self) -> str:
        """The hash of block 0 (0x-hex): tells a chain from another with the same id."""
        return "0x" + bytes(self.chain.w3.eth.get_block(0)["hash"]).hex()

    def latest_block_time(self) -> int:
        """The timestamp of the chain's latest block: the hub's `block.timestamp`, roughly."""
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def deal(self, deal_id: bytes) -> DealCreated | None:
        """The deal as its `DealCreated` event recorded it, or None for an unknown id."""
        logs = self.market.events.DealCreated().get_logs(
            from_block=self.deployment.block, argument_filters={"deal_id": deal_id}
        )
        return DealCreated.from_args(dict(logs[-1]["args"])) if logs else None

    def task_deal(self, task: bytes) -> tuple[DealCreated, int] | None:
        """The deal a task belongs to and its index in it, or None for an unknown task.

        Task ids are hashes of (deal id, index), so this reads every deal since the
        deployment: fine for a devnet or a client, not for a hot path.
        """
        for entry in self.market.events.DealCreated().get_logs(from_block=self.deployment.block):
            created = DealCreated.from_args(dict(entry["args"]))
            ids = created.deal.task_ids(created.deal_id)
            if task in ids:
                return created, created.deal.bot_first + ids.index(task)
        return None

    def contributors(self, task: bytes) -> list[str]:
        """Every worker that contributed to the task, in any round (what claim needs)."""
        logs = self.contract.events.TaskContributed().get_logs(
            from_block=self.deployment.block, argument_filters={"task_id": task}
        )
        return sorted_contributors({str(entry["args"]["worker"]) for entry in logs})

    def deals_created(self, receipt: TxReceipt) -> list[DealCreated]:
        """The deals a `matchOrders` transaction made."""
        logs = self.market.events.DealCreated().process_receipt(receipt, errors=DISCARD)
        return [DealCreated.from_args(dict(entry["args"])) for entry in logs]


def _batches(items: list[Any]) -> list[list[Any]]:
    return [items[start : start + MAX_BATCH] for start in range(0, len(items), MAX_BATCH)]
