# pragma version 0.4.3
"""
@title Proof-of-Contribution: deals, tasks, consensus, rewards, callbacks
@license Apache-2.0
@notice The market opens a deal here (`openDeal`): the payment and the pool's
        stake are locked and the deal's commitment kept. A task of the deal
        (task id = keccak256(deal id, index)) then lives through:
        UNSET -> ACTIVE (`initialize`: contributions until start + 7T, final
        deadline start + 10T) -> REVEALING (consensus reached: winners reveal
        until now + 2T) -> COMPLETED (`finalize` by the scheduler) or FAILED
        (`claim` by anyone after the final deadline: the requester is
        refunded, the pool's stake goes to the kitty).
        Consensus (iExec's rule): a worker of score s weighs
        max(s // 3, 3) - 1; a result's group value is the product of its
        contributors' weights; total = 1 + the sum of all groups; a group
        wins when group * trust > total * (trust - 1).
        Trust <= 1 needs no replication: such tasks skip `initialize` and
        complete through `contributeAndFinalize`, where the authorised worker
        hands in the result and is paid in one transaction.
@custom:security The scheduler lists a task's contributors when it finalizes
        or a task is claimed, in ascending address order, and the list must
        have exactly the task's contributor count: so it is exactly the set
        of contributors, with no storage array to pay for. A callback runs
        last, after every state change, with 200,000 gas; whatever it does
        (revert, burn its gas, re-enter), the payment stands. A group value
        above 2**224 reverts, which needs hundreds of contributors per task;
        a task takes at most `MAX_CONTRIBUTORS`.
"""

from modules import deal
from modules import eip712
from modules import escrow
from modules import ownable
from modules import signatures

uses: eip712
uses: escrow
uses: ownable

UNSET: constant(uint256) = 0
ACTIVE: constant(uint256) = 1
REVEALING: constant(uint256) = 2
COMPLETED: constant(uint256) = 3
FAILED: constant(uint256) = 4

CONTRIBUTED: constant(uint256) = 1
PROVED: constant(uint256) = 2

CONTRIBUTION_DEADLINE_RATIO: constant(uint256) = 7
REVEAL_DEADLINE_RATIO: constant(uint256) = 2
FINAL_DEADLINE_RATIO: constant(uint256) = 10
WORKERPOOL_STAKE_RATIO: constant(uint256) = 30
KITTY_RATIO: constant(uint256) = 10
KITTY_MIN: constant(uint256) = 10**9  # 1 RLC
CALLBACK_GAS: constant(uint256) = 200_000
CALLBACK_GAS_MARGIN: constant(uint256) = 10_000  # the call's own cost and what follows it
MAX_CONTRIBUTORS: constant(uint256) = 64
MAX_BATCH: constant(uint256) = 16
MAX_CALLBACK_DATA: constant(uint256) = 1024
TEE_BIT: constant(uint256) = 1
GROUP_VALUE_MASK: constant(uint256) = 2**224 - 1
COUNT_SHIFT: constant(uint256) = 224
COMMIT_MASK: constant(uint256) = max_value(uint256) - 2**16 + 1  # drops the low 16 bits
STATUS_MASK: constant(uint256) = 15
ROUND_SHIFT: constant(uint256) = 200  # in the task word; in a contribution word it is 4
MAX_ROUND: constant(uint256) = 15

AUTHORIZATION_TYPEHASH: constant(bytes32) = keccak256(
    "Authorization(address worker,bytes32 taskId,address enclaveChallenge)"
)
ENCLAVE_RESULT_TYPEHASH: constant(bytes32) = keccak256(
    "EnclaveResult(bytes32 resultHash,bytes32 resultSeal)"
)
RECEIVE_RESULT: constant(bytes4) = method_id("receiveResult(bytes32,bytes)", output_type=bytes4)


struct Task:
    status: uint256
    contributors: uint256
    reveals: uint256
    winners: uint256
    contribution_deadline: uint256
    reveal_deadline: uint256
    final_deadline: uint256
    consensus_value: bytes32
    result_digest: bytes32
    results: bytes32
    round: uint256


struct Contribution:
    status: uint256
    log2_weight: uint256
    commitment: bytes32
    round: uint256


struct FinalizeItem:
    index: uint256
    results: bytes32
    results_callback: Bytes[MAX_CALLBACK_DATA]
    contributors: DynArray[address, MAX_CONTRIBUTORS]


struct ClaimItem:
    index: uint256
    contributors: DynArray[address, MAX_CONTRIBUTORS]


event MarketBound:
    market: indexed(address)


event TaskInitialized:
    task_id: indexed(bytes32)
    deal_id: indexed(bytes32)
    index: uint256


event TaskContributed:
    task_id: indexed(bytes32)
    worker: indexed(address)
    result_hash: bytes32


event TaskConsensus:
    task_id: indexed(bytes32)
    consensus_value: bytes32


event TaskRevealed:
    task_id: indexed(bytes32)
    worker: indexed(address)
    result_digest: bytes32


event TaskReopened:
    task_id: indexed(bytes32)


event TaskFinalized:
    task_id: indexed(bytes32)
    results: bytes32
    result_digest: bytes32


event TaskClaimed:
    task_id: indexed(bytes32)


event AccurateContribution:
    worker: indexed(address)
    task_id: indexed(bytes32)


event FaultyContribution:
    worker: indexed(address)
    task_id: indexed(bytes32)


event CallbackFailed:
    task_id: indexed(bytes32)
    callback: indexed(address)


market: public(address)

_commitments: HashMap[bytes32, bytes32]
# status 0-7 | contributors 8-23 | reveals 24-39 | winners 40-55 |
# contribution deadline 56-103 | reveal deadline 104-151 | final deadline 152-199 | round 200-207
_tasks: HashMap[bytes32, uint256]
_consensus: HashMap[bytes32, bytes32]
_digests: HashMap[bytes32, bytes32]
_results: HashMap[bytes32, bytes32]
_group_sums: HashMap[bytes32, uint256]
# group value (product of weights) 0-223 | contributors 224-255
_groups: HashMap[bytes32, HashMap[bytes32, uint256]]
# status 0-3 | round 4-7 | log2(weight) 8-15 | keccak256(result hash, result seal) 16-255
_contributions: HashMap[bytes32, HashMap[address, uint256]]


# -- deals -------------------------------------------------------------------


@external
def bindMarket(market: address):
    """
    @notice Names the market contract allowed to open deals; once.
    @dev Only the hub's owner, and only while no market is bound.
    """
    ownable._check_owner()
    assert self.market == empty(address), "hub: market already bound"
    assert market != empty(address), "hub: market is zero address"
    self.market = market
    log MarketBound(market=market)


@external
def openDeal(
    deal_id: bytes32,
    commitment: bytes32,
    requester: address,
    cost: uint256,
    workerpool_owner: address,
    stake: uint256,
):
    """
    @notice Locks a new deal's payment (`cost`, from the requester) and the
            pool owner's `stake`, and keeps the deal's commitment.
    @dev Only the bound market, from `matchOrders`.
    """
    assert msg.sender == self.market, "hub: only the market"
    assert escrow._free(requester) >= cost, "hub: requester balance too low"
    escrow._lock(requester, cost, deal_id)
    assert escrow._free(workerpool_owner) >= stake, "hub: workerpool owner balance too low"
    escrow._lock(workerpool_owner, stake, deal_id)
    self._commitments[deal_id] = commitment


# -- task lifecycle ------------------------------------------------------------


@external
def initialize(d: deal.Deal, deal_id: bytes32, index: uint256) -> bytes32:
    """
    @notice Starts task `index` of deal `deal_id` and returns its id. Tasks
            of trust-1 deals are not initialized: they complete through
            `contributeAndFinalize`.
    @dev Anyone may call (the pool's scheduler does); the deal is passed in
         full and checked against its commitment.
    """
    self._check_deal(d, deal_id)
    return self._initialize(d, deal_id, index)


@external
def initializeArray(d: deal.Deal, deal_id: bytes32, indices: DynArray[uint256, MAX_BATCH]):
    """
    @notice `initialize` for several tasks of one deal in one transaction.
    """
    self._check_deal(d, deal_id)
    for index: uint256 in indices:
        self._initialize(d, deal_id, index)


@external
def contribute(
    d: deal.Deal,
    deal_id: bytes32,
    index: uint256,
    result_hash: bytes32,
    result_seal: bytes32,
    enclave_challenge: address,
    enclave_sign: Bytes[signatures.SIGNATURE_SIZE],
    authorization: Bytes[signatures.SIGNATURE_SIZE],
):
    """
    @notice The caller, a worker, commits to a result of an active task:
            `result_hash` = keccak256(task id, digest) is its vote and
            `result_seal` = keccak256(worker, task id, digest) proves it knows
            the digest without showing it. Locks the deal's worker stake.
    @dev Only a worker the scheduler authorised: `authorization` is the
         pool owner's EIP-712 signature over Authorization(worker, task id,
         enclave challenge). For TEE deals an enclave challenge is required
         and `enclave_sign` is that enclave's signature over
         EnclaveResult(result hash, result seal).
    """
    self._check_deal(d, deal_id)
    task_id: bytes32 = self._task_id(d, deal_id, index)
    word: uint256 = self._tasks[task_id]
    assert word & 255 == ACTIVE, "poco: task not active"
    assert block.timestamp < (word >> 56) & (2**48 - 1), "poco: contribution deadline passed"
    assert self._contributions[task_id][msg.sender] == 0, "poco: already contributed"
    contributors: uint256 = (word >> 8) & 65535
    assert contributors < MAX_CONTRIBUTORS, "poco: task has its maximum of contributors"
    self._check_authorization(d, task_id, enclave_challenge, enclave_sign, authorization, result_hash, result_seal)
    assert escrow._free(msg.sender) >= d.worker_stake, "poco: stake above free balance"
    escrow._lock(msg.sender, d.worker_stake, task_id)

    weight: uint256 = self._weight(escrow._score(msg.sender))
    self._contributions[task_id][msg.sender] = (
        (convert(keccak256(concat(result_hash, result_seal)), uint256) & COMMIT_MASK)
        | (self._log2(weight) << 8)
        | (((word >> ROUND_SHIFT) & MAX_ROUND) << 4)
        | CONTRIBUTED
    )
    group_word: uint256 = self._groups[task_id][result_hash]
    group: uint256 = group_word & GROUP_VALUE_MASK
    new_group: uint256 = max(group, 1) * weight
    assert new_group <= GROUP_VALUE_MASK, "poco: group value overflow"
    members: uint256 = (group_word >> COUNT_SHIFT) + 1
    self._groups[task_id][result_hash] = new_group | (members << COUNT_SHIFT)
    group_sum: uint256 = self._group_sums[task_id] + new_group - group
    self._group_sums[task_id] = group_sum
    word += 1 << 8  # one more contributor
    log TaskContributed(task_id=task_id, worker=msg.sender, result_hash=result_hash)

    if new_group * d.trust > (1 + group_sum) * (d.trust - 1):
        reveal_deadline: uint256 = block.timestamp + REVEAL_DEADLINE_RATIO * d.time_ref
        # status REVEALING, reveals 0, winners = the group's members, reveal deadline set
        word = (word & ~(255 | (2**32 - 1) << 24 | (2**48 - 1) << 104)) | REVEALING
        word |= (members << 40) | (reveal_deadline << 104)
        self._consensus[task_id] = result_hash
        log TaskConsensus(task_id=task_id, consensus_value=result_hash)
    self._tasks[task_id] = word


@external
def reveal(task_id: bytes32, result_digest: bytes32):
    """
    @notice The caller, a worker whose contribution is in the consensus,
            shows the digest it committed to.
    @dev Only a contributor of the winning group, before the reveal deadline.
    """
    word: uint256 = self._tasks[task_id]
    assert word & 255 == REVEALING, "poco: task not revealing"
    assert block.timestamp < (word >> 104) & (2**48 - 1), "poco: reveal deadline passed"
    contribution: uint256 = self._contributions[task_id][msg.sender]
    assert contribution & STATUS_MASK == CONTRIBUTED, "poco: no contribution to reveal"
    # a reopen voids the silent winners' votes, even if the new round agrees with them
    assert (contribution >> 4) & MAX_ROUND == (word >> ROUND_SHIFT) & MAX_ROUND, "poco: contribution from before a reopen"
    result_hash: bytes32 = keccak256(concat(task_id, result_digest))
    assert result_hash == self._consensus[task_id], "poco: result is not the consensus"
    result_seal: bytes32 = keccak256(concat(convert(msg.sender, bytes20), task_id, result_digest))
    assert (
        convert(keccak256(concat(result_hash, result_seal)), uint256) & COMMIT_MASK
        == contribution & COMMIT_MASK
    ), "poco: result does not match the contribution"
    self._contributions[task_id][msg.sender] = (contribution & ~STATUS_MASK) | PROVED
    self._tasks[task_id] = word + (1 << 24)  # one more reveal
    self._digests[task_id] = result_digest
    log TaskRevealed(task_id=task_id, worker=msg.sender, result_digest=result_digest)


@external
def reopen(d: deal.Deal, deal_id: bytes32, index: uint256):
    """
    @notice When no winner revealed in time, drops the consensus so the task
            collects contributions again, in a new round; the silent winners'
            contributions belong to the old round, can no longer be revealed,
            and lose their stake when the task is finalized.
    @dev Only the pool's owner (its scheduler), after the reveal deadline and
         before the final deadline.
    """
    self._check_deal(d, deal_id)
    assert msg.sender == d.workerpool_owner, "poco: not the scheduler"
    task_id: bytes32 = self._task_id(d, deal_id, index)
    word: uint256 = self._tasks[task_id]
    assert word & 255 == REVEALING, "poco: task not revealing"
    assert block.timestamp < (word >> 152) & (2**48 - 1), "poco: final deadline passed"
    assert block.timestamp >= (word >> 104) & (2**48 - 1), "poco: reveal deadline not reached"
    assert (word >> 24) & 65535 == 0, "poco: results were revealed"
    round: uint256 = (word >> ROUND_SHIFT) & MAX_ROUND
    assert round < MAX_ROUND, "poco: too many reopens"
    consensus_value: bytes32 = self._consensus[task_id]
    self._group_sums[task_id] -= self._groups[task_id][consensus_value] & GROUP_VALUE_MASK
    self._groups[task_id][consensus_value] = 0
    self._consensus[task_id] = empty(bytes32)
    # status ACTIVE, winners 0, reveal deadline 0, next round
    word = (word & ~(255 | (2**16 - 1) << 40 | (2**48 - 1) << 104 | MAX_ROUND << ROUND_SHIFT)) | ACTIVE
    self._tasks[task_id] = word | ((round + 1) << ROUND_SHIFT)
    log TaskReopened(task_id=task_id)


@external
def finalize(
    d: deal.Deal,
    deal_id: bytes32,
    index: uint256,
    results: bytes32,
    results_callback: Bytes[MAX_CALLBACK_DATA],
    contributors: DynArray[address, MAX_CONTRIBUTORS],
):
    """
    @notice Completes a task whose winners revealed (all of them, or at least
            one by the reveal deadline) and pays: app and dataset owners their
            prices, winners their stake back and the worker reward split by
            log2(weight), the scheduler the rest plus a kitty bonus; losers'
            stakes are seized into the reward. Then calls the request's
            callback contract, if any, with `results_callback`.
    @dev Only the pool's owner (its scheduler). `results` is where the result
         is (its id in nuage storage); `contributors` lists every
         contributor of the task in ascending address order.
    """
    self._check_deal(d, deal_id)
    assert msg.sender == d.workerpool_owner, "poco: not the scheduler"
    task_id: bytes32 = self._task_id(d, deal_id, index)
    self._finalize(d, task_id, results, results_callback, contributors)
    self._call_back(d, task_id, results_callback)


@external
def finalizeArray(d: deal.Deal, deal_id: bytes32, items: DynArray[FinalizeItem, MAX_BATCH]):
    """
    @notice `finalize` for several tasks of one deal in one transaction.
    @dev Only the pool's owner (its scheduler).
    """
    self._check_deal(d, deal_id)
    assert msg.sender == d.workerpool_owner, "poco: not the scheduler"
    for item: FinalizeItem in items:
        task_id: bytes32 = self._task_id(d, deal_id, item.index)
        self._finalize(d, task_id, item.results, item.results_callback, item.contributors)
    for item: FinalizeItem in items:
        self._call_back(d, self._task_id(d, deal_id, item.index), item.results_callback)


@external
def contributeAndFinalize(
    d: deal.Deal,
    deal_id: bytes32,
    index: uint256,
    result_digest: bytes32,
    results: bytes32,
    results_callback: Bytes[MAX_CALLBACK_DATA],
    enclave_challenge: address,
    enclave_sign: Bytes[signatures.SIGNATURE_SIZE],
    authorization: Bytes[signatures.SIGNATURE_SIZE],
):
    """
    @notice The one-transaction path of deals with trust <= 1: the authorised
            worker hands in the result of a task nobody started, and the task
            is completed and paid at once (no stake, no score change).
    @dev Only a worker the scheduler authorised (see `contribute`), before the
         task's contribution deadline.
    """
    self._check_deal(d, deal_id)
    assert d.trust <= 1, "poco: trust above 1"
    task_id: bytes32 = self._task_id(d, deal_id, index)
    # a trust-1 task is never initialized, and cannot be claimed before its
    # contribution deadline: its results slot alone says whether it is done
    assert self._results[task_id] == empty(bytes32), "poco: task already completed"
    deadline: uint256 = d.start_time + CONTRIBUTION_DEADLINE_RATIO * d.time_ref
    assert block.timestamp < deadline, "poco: contribution deadline passed"
    assert results != empty(bytes32), "poco: empty results"
    self._check_callback_data(d, result_digest, results_callback)
    result_hash: bytes32 = keccak256(concat(task_id, result_digest))
    result_seal: bytes32 = keccak256(concat(convert(msg.sender, bytes20), task_id, result_digest))
    self._check_authorization(d, task_id, enclave_challenge, enclave_sign, authorization, result_hash, result_seal)

    self._results[task_id] = results
    self._pay_owners(d, task_id)
    worker_reward: uint256 = d.workerpool_price * (100 - d.scheduler_reward_ratio) // 100
    escrow._reward(msg.sender, worker_reward, task_id)
    escrow._reward(d.workerpool_owner, d.workerpool_price - worker_reward, task_id)
    escrow._check_pot_empty()
    # the worker is in the Reward event; the digest here is the only record of it
    log TaskFinalized(task_id=task_id, results=results, result_digest=result_digest)
    self._call_back(d, task_id, results_callback)


@external
def claim(d: deal.Deal, deal_id: bytes32, index: uint256, contributors: DynArray[address, MAX_CONTRIBUTORS]):
    """
    @notice After the final deadline, fails a task that did not complete: the
            requester gets its price back, the pool owner's stake for the task
            goes to the kitty, contributors get their stakes back.
    @dev Anyone may call (the requester, usually). `contributors` lists every
         contributor of the task in ascending address order (empty for a
         task never started).
    """
    self._check_deal(d, deal_id)
    self._claim(d, self._task_id(d, deal_id, index), contributors)


@external
def claimArray(d: deal.Deal, deal_id: bytes32, items: DynArray[ClaimItem, MAX_BATCH]):
    """
    @notice `claim` for several tasks of one deal in one transaction.
    """
    self._check_deal(d, deal_id)
    for item: ClaimItem in items:
        self._claim(d, self._task_id(d, deal_id, item.index), item.contributors)


# -- views -------------------------------------------------------------------


@external
@view
def viewTask(task_id: bytes32) -> Task:
    """
    @notice A task's state; a task completed in one transaction
            (`contributeAndFinalize`) reads as COMPLETED with no deadlines.
    """
    word: uint256 = self._tasks[task_id]
    status: uint256 = word & 255
    if word == 0 and self._results[task_id] != empty(bytes32):
        status = COMPLETED
    return Task(
        status=status,
        contributors=(word >> 8) & 65535,
        reveals=(word >> 24) & 65535,
        winners=(word >> 40) & 65535,
        contribution_deadline=(word >> 56) & (2**48 - 1),
        reveal_deadline=(word >> 104) & (2**48 - 1),
        final_deadline=(word >> 152) & (2**48 - 1),
        consensus_value=self._consensus[task_id],
        result_digest=self._digests[task_id],
        results=self._results[task_id],
        round=(word >> ROUND_SHIFT) & MAX_ROUND,
    )


@external
@view
def viewContribution(task_id: bytes32, worker: address) -> Contribution:
    """
    @notice A worker's contribution to a task: status (0 none, 1 contributed,
            2 revealed), log2 of its weight, the top 240 bits of
            keccak256(result hash, result seal), and the round it was made in
            (0, then +1 after each reopen).
    """
    word: uint256 = self._contributions[task_id][worker]
    return Contribution(
        status=word & STATUS_MASK,
        log2_weight=(word >> 8) & 255,
        commitment=convert(word & COMMIT_MASK, bytes32),
        round=(word >> 4) & MAX_ROUND,
    )


@external
@view
def viewResult(task_id: bytes32) -> bytes32:
    """
    @notice The results of a completed task (the result's id in nuage
            storage); reverts while the task is not completed.
    """
    results: bytes32 = self._results[task_id]
    assert results != empty(bytes32), "poco: task not completed"
    return results


@external
@view
def viewDeal(deal_id: bytes32) -> bytes32:
    """
    @notice The deal's commitment: keccak256 of its ABI-encoded record, which
            the market's `DealCreated` event carries; zero for no deal.
    """
    return self._commitments[deal_id]


@external
@pure
def dealCommitment(d: deal.Deal) -> bytes32:
    """
    @notice keccak256 of a deal record's ABI encoding, to compare with `viewDeal`.
    """
    return deal._commitment(d)


@external
@view
def authorizationHash(worker: address, task_id: bytes32, enclave_challenge: address) -> bytes32:
    """
    @notice The EIP-712 digest a pool owner signs to let `worker` contribute
            to `task_id` (through enclave `enclave_challenge`, or zero).
    """
    return eip712._digest(keccak256(abi_encode(AUTHORIZATION_TYPEHASH, worker, task_id, enclave_challenge)))


# -- internals -----------------------------------------------------------------


@internal
@view
def _check_deal(d: deal.Deal, deal_id: bytes32):
    commitment: bytes32 = self._commitments[deal_id]
    assert commitment != empty(bytes32), "poco: unknown deal"
    assert commitment == deal._commitment(d), "poco: deal does not match its commitment"


@internal
@pure
def _task_id(d: deal.Deal, deal_id: bytes32, index: uint256) -> bytes32:
    assert index >= d.bot_first and index < d.bot_first + d.bot_size, "poco: task index outside the deal"
    return keccak256(concat(deal_id, convert(index, bytes32)))


@internal
def _initialize(d: deal.Deal, deal_id: bytes32, index: uint256) -> bytes32:
    assert d.trust > 1, "poco: trust 1 tasks complete in one transaction"
    task_id: bytes32 = self._task_id(d, deal_id, index)
    assert self._tasks[task_id] == 0, "poco: task already initialized"
    contribution_deadline: uint256 = d.start_time + CONTRIBUTION_DEADLINE_RATIO * d.time_ref
    final_deadline: uint256 = d.start_time + FINAL_DEADLINE_RATIO * d.time_ref
    self._tasks[task_id] = ACTIVE | (contribution_deadline << 56) | (final_deadline << 152)
    log TaskInitialized(task_id=task_id, deal_id=deal_id, index=index)
    return task_id


@internal
def _finalize(
    d: deal.Deal,
    task_id: bytes32,
    results: bytes32,
    results_callback: Bytes[MAX_CALLBACK_DATA],
    contributors: DynArray[address, MAX_CONTRIBUTORS],
):
    word: uint256 = self._tasks[task_id]
    assert word & 255 == REVEALING, "poco: task not revealing"
    assert block.timestamp < (word >> 152) & (2**48 - 1), "poco: final deadline passed"
    reveals: uint256 = (word >> 24) & 65535
    all_revealed: bool = reveals == (word >> 40) & 65535
    deadline_passed: bool = block.timestamp >= (word >> 104) & (2**48 - 1)
    assert all_revealed or (reveals > 0 and deadline_passed), "poco: reveals still expected"
    assert results != empty(bytes32), "poco: empty results"
    result_digest: bytes32 = self._digests[task_id]
    self._check_callback_data(d, result_digest, results_callback)
    self._check_contributors(task_id, contributors, (word >> 8) & 65535)

    self._tasks[task_id] = (word & ~255) | COMPLETED
    self._results[task_id] = results
    self._pay_owners(d, task_id)

    # losers' stakes join the worker reward; winners share it by log2(weight)
    reward: uint256 = d.workerpool_price
    total_log_weight: uint256 = 0
    for worker: address in contributors:
        contribution: uint256 = self._contributions[task_id][worker]
        if contribution & STATUS_MASK == PROVED:
            total_log_weight += (contribution >> 8) & 255
        else:
            escrow._seize(worker, d.worker_stake, task_id)
            escrow._set_score(worker, escrow._score(worker) * 2 // 3)
            reward += d.worker_stake
            log FaultyContribution(worker=worker, task_id=task_id)
    workers_reward: uint256 = reward * (100 - d.scheduler_reward_ratio) // 100
    replicated: bool = len(contributors) > 1
    for worker: address in contributors:
        contribution: uint256 = self._contributions[task_id][worker]
        if contribution & STATUS_MASK == PROVED:
            share: uint256 = workers_reward * ((contribution >> 8) & 255) // total_log_weight
            reward -= share
            escrow._unlock(worker, d.worker_stake, task_id)
            escrow._reward(worker, share, task_id)
            if replicated:
                escrow._set_score(worker, escrow._score(worker) + 1)
                log AccurateContribution(worker=worker, task_id=task_id)
    escrow._reward(d.workerpool_owner, reward, task_id)  # the scheduler keeps the rest
    escrow._check_pot_empty()
    log TaskFinalized(task_id=task_id, results=results, result_digest=result_digest)


@internal
def _claim(d: deal.Deal, task_id: bytes32, contributors: DynArray[address, MAX_CONTRIBUTORS]):
    word: uint256 = self._tasks[task_id]
    status: uint256 = word & 255
    assert status != COMPLETED and self._results[task_id] == empty(bytes32), "poco: task already completed"
    assert status != FAILED, "poco: task already claimed"
    final_deadline: uint256 = d.start_time + FINAL_DEADLINE_RATIO * d.time_ref
    assert block.timestamp >= final_deadline, "poco: final deadline not reached"
    self._check_contributors(task_id, contributors, (word >> 8) & 65535)
    if status == UNSET:
        word = final_deadline << 152  # a task never started fails with its deadline on record
    self._tasks[task_id] = (word & ~255) | FAILED
    escrow._unlock(d.requester, d.app_price + d.dataset_price + d.workerpool_price, task_id)
    escrow._seize_to_kitty(d.workerpool_owner, d.workerpool_price * WORKERPOOL_STAKE_RATIO // 100, task_id)
    for worker: address in contributors:
        escrow._unlock(worker, d.worker_stake, task_id)
    log TaskClaimed(task_id=task_id)


@internal
def _pay_owners(d: deal.Deal, task_id: bytes32):
    # the task's price leaves the requester; the owners are paid, the pool's
    # stake returns with a kitty bonus; the pool price stays in the pot for
    # the workers and the scheduler
    escrow._seize(d.requester, d.app_price + d.dataset_price + d.workerpool_price, task_id)
    if d.app_price > 0:
        escrow._reward(d.app_owner, d.app_price, task_id)
    if d.dataset_price > 0:
        escrow._reward(d.dataset_owner, d.dataset_price, task_id)
    escrow._unlock(d.workerpool_owner, d.workerpool_price * WORKERPOOL_STAKE_RATIO // 100, task_id)
    kitty: uint256 = escrow._kitty
    if kitty > 0:
        bonus: uint256 = min(max(kitty * KITTY_RATIO // 100, KITTY_MIN), kitty)
        escrow._take_from_kitty(bonus, task_id)
        escrow._reward(d.workerpool_owner, bonus, task_id)


@internal
@view
def _check_contributors(task_id: bytes32, contributors: DynArray[address, MAX_CONTRIBUTORS], count: uint256):
    # ascending order and the right count: the list is exactly the contributors
    assert len(contributors) == count, "poco: contributor list incomplete"
    previous: uint256 = 0
    for worker: address in contributors:
        assert convert(worker, uint256) > previous, "poco: contributors not in ascending order"
        previous = convert(worker, uint256)
        assert self._contributions[task_id][worker] != 0, "poco: not a contributor"


@internal
@view
def _check_authorization(
    d: deal.Deal,
    task_id: bytes32,
    enclave_challenge: address,
    enclave_sign: Bytes[signatures.SIGNATURE_SIZE],
    authorization: Bytes[signatures.SIGNATURE_SIZE],
    result_hash: bytes32,
    result_seal: bytes32,
):
    if convert(d.tag, uint256) & TEE_BIT != 0:
        assert enclave_challenge != empty(address), "poco: enclave required"
    digest: bytes32 = eip712._digest(
        keccak256(abi_encode(AUTHORIZATION_TYPEHASH, msg.sender, task_id, enclave_challenge))
    )
    assert signatures._recover(digest, authorization) == d.workerpool_owner, "poco: bad authorization"
    if enclave_challenge != empty(address):
        enclave_digest: bytes32 = eip712._digest(
            keccak256(abi_encode(ENCLAVE_RESULT_TYPEHASH, result_hash, result_seal))
        )
        assert signatures._recover(enclave_digest, enclave_sign) == enclave_challenge, "poco: bad enclave signature"


@internal
@pure
def _check_callback_data(d: deal.Deal, result_digest: bytes32, results_callback: Bytes[MAX_CALLBACK_DATA]):
    # callback data is the result itself: its keccak256 is the digest workers agreed on
    assert (
        (d.callback == empty(address) and len(results_callback) == 0)
        or keccak256(results_callback) == result_digest
    ), "poco: callback data does not match the result"


@internal
def _call_back(d: deal.Deal, task_id: bytes32, results_callback: Bytes[MAX_CALLBACK_DATA]):
    # last, after every state change: a callback cannot undo a payment
    if d.callback == empty(address):
        return
    # a call forwards at most 63/64 of the gas left (EIP-150): demand enough that the
    # callback surely gets its whole stipend, so no gas limit can starve it on purpose
    assert msg.gas > CALLBACK_GAS * 64 // 63 + CALLBACK_GAS_MARGIN, "poco: callback starved of gas"
    success: bool = raw_call(
        d.callback,
        abi_encode(task_id, results_callback, method_id=RECEIVE_RESULT),
        gas=CALLBACK_GAS,
        revert_on_failure=False,
    )
    if not success:
        log CallbackFailed(task_id=task_id, callback=d.callback)


@internal
@pure
def _weight(score: uint256) -> uint256:
    return max(score // 3, 3) - 1


@internal
@pure
def _log2(x: uint256) -> uint256:
    # floor(log2(x)) for x >= 1
    result: uint256 = 0
    remaining: uint256 = x
    for bit: uint256 in [128, 64, 32, 16, 8, 4, 2, 1]:
        if remaining >> bit != 0:
            remaining >>= bit
            result += bit
    return result
