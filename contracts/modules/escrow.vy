# pragma version 0.4.3
"""
@title Escrow: RLC accounts inside the hub
@license Apache-2.0
@notice Each account holds a free balance (spendable, withdrawable), a
        frozen balance (locked by deals and stakes) and, for workers, a
        reputation score. All three live in one storage word (free: bits
        0-95, frozen: 96-191, score: 192-255), so paying a worker, returning
        its stake and updating its score cost one storage write.
        Money is conserved: the sum of all free and frozen balances, plus
        the kitty, equals the RLC the hub holds. Within a transaction,
        amounts seized from frozen balances (or taken from the kitty) sit in
        a transient pot that only `_reward` may spend.
@custom:security An account's free + frozen stays below 2**96
        (`MAX_BALANCE`), far above RLC's total supply (8.7 * 10**16 nRLC);
        a score grows by at most one per task and never nears 2**64.
"""

from ethereum.ercs import IERC20
from interfaces import IApprovalReceiver

implements: IApprovalReceiver

MAX_BALANCE: constant(uint256) = 2**96
AMOUNT_MASK: constant(uint256) = 2**96 - 1
FROZEN_SHIFT: constant(uint256) = 96
SCORE_SHIFT: constant(uint256) = 192


event Deposit:
    account: indexed(address)
    sender: indexed(address)
    amount: uint256


event Withdraw:
    account: indexed(address)
    receiver: indexed(address)
    amount: uint256


event Lock:
    account: indexed(address)
    amount: uint256
    ref: bytes32


event Unlock:
    account: indexed(address)
    amount: uint256
    ref: bytes32


event Reward:
    account: indexed(address)
    amount: uint256
    ref: bytes32


event Seize:
    account: indexed(address)
    amount: uint256
    ref: bytes32


event KittyChanged:
    old_kitty: uint256
    new_kitty: uint256
    ref: bytes32


TOKEN: public(immutable(IERC20))

_accounts: HashMap[address, uint256]
_kitty: uint256
_pot: transient(uint256)


@deploy
def __init__(token: IERC20):
    TOKEN = token


@external
def deposit(amount: uint256) -> bool:
    """
    @notice Moves `amount` nRLC from the caller's wallet into the caller's
            free balance. Needs an allowance to the hub first (or use RLC's
            `approveAndCall`, which deposits in one transaction).
    """
    self._pull(msg.sender, msg.sender, amount)
    return True


@external
def depositFor(amount: uint256, target: address) -> bool:
    """
    @notice Moves `amount` nRLC from the caller's wallet into `target`'s free
            balance.
    """
    assert target != empty(address), "escrow: deposit for zero address"
    self._pull(msg.sender, target, amount)
    return True


@external
def receiveApproval(sender: address, amount: uint256, token: address, extra_data: Bytes[1024]) -> bool:
    """
    @notice Called by RLC's `approveAndCall`: deposits `amount` for `sender`.
    @dev Only the RLC token, on behalf of `sender` who just approved.
    """
    assert msg.sender == TOKEN.address, "escrow: only the token"
    assert token == TOKEN.address, "escrow: wrong token"
    self._pull(sender, sender, amount)
    return True


@external
def withdraw(amount: uint256) -> bool:
    """
    @notice Moves `amount` nRLC of the caller's free balance to the caller's
            wallet.
    """
    self._withdraw(msg.sender, amount)
    return True


@external
def withdrawTo(amount: uint256, target: address) -> bool:
    """
    @notice Moves `amount` nRLC of the caller's free balance to `target`'s
            wallet.
    """
    assert target != empty(address), "escrow: withdraw to zero address"
    self._withdraw(target, amount)
    return True


@external
@view
def balanceOf(account: address) -> uint256:
    """
    @notice The free (spendable) balance of `account`, in nRLC.
    """
    return self._accounts[account] & AMOUNT_MASK


@external
@view
def frozenOf(account: address) -> uint256:
    """
    @notice The frozen (locked) balance of `account`, in nRLC.
    """
    return (self._accounts[account] >> FROZEN_SHIFT) & AMOUNT_MASK


@external
@view
def scoreOf(worker: address) -> uint256:
    """
    @notice The worker's reputation: +1 per task won by replicated
            consensus, down to 2/3 for each wrong or unrevealed result.
    """
    return self._accounts[worker] >> SCORE_SHIFT


@external
@view
def kitty() -> uint256:
    """
    @notice RLC seized from pools whose tasks failed; each completed task
            gives its scheduler a bonus out of it.
    """
    return self._kitty


@internal
def _pull(sender: address, account: address, amount: uint256):
    assert amount > 0, "escrow: zero amount"
    word: uint256 = self._accounts[account]
    assert self._held(word) + amount < MAX_BALANCE, "escrow: balance above 2**96"
    self._accounts[account] = word + amount  # free part cannot carry: below 2**96
    log Deposit(account=account, sender=sender, amount=amount)
    assert extcall TOKEN.transferFrom(sender, self, amount), "escrow: token transfer failed"


@internal
def _withdraw(receiver: address, amount: uint256):
    assert amount > 0, "escrow: zero amount"
    word: uint256 = self._accounts[msg.sender]
    assert word & AMOUNT_MASK >= amount, "escrow: insufficient free balance"
    self._accounts[msg.sender] = unsafe_sub(word, amount)  # free part checked above
    log Withdraw(account=msg.sender, receiver=receiver, amount=amount)
    assert extcall TOKEN.transfer(receiver, amount), "escrow: token transfer failed"


@internal
@view
def _free(account: address) -> uint256:
    return self._accounts[account] & AMOUNT_MASK


@internal
@pure
def _held(word: uint256) -> uint256:
    return (word & AMOUNT_MASK) + ((word >> FROZEN_SHIFT) & AMOUNT_MASK)


@internal
@view
def _score(account: address) -> uint256:
    return self._accounts[account] >> SCORE_SHIFT


@internal
def _set_score(account: address, score: uint256):
    word: uint256 = self._accounts[account]
    self._accounts[account] = (word & (2**SCORE_SHIFT - 1)) | (score << SCORE_SHIFT)


@internal
def _lock(account: address, amount: uint256, ref: bytes32):
    # free -> frozen; callers check the free balance to give their own reason
    word: uint256 = self._accounts[account]
    assert word & AMOUNT_MASK >= amount, "escrow: insufficient free balance"
    # free + frozen stays below 2**96: the move cannot carry out of either part
    self._accounts[account] = unsafe_add(unsafe_sub(word, amount), amount << FROZEN_SHIFT)
    log Lock(account=account, amount=amount, ref=ref)


@internal
def _unlock(account: address, amount: uint256, ref: bytes32):
    # frozen -> free
    word: uint256 = self._accounts[account]
    assert (word >> FROZEN_SHIFT) & AMOUNT_MASK >= amount, "escrow: insufficient frozen balance"
    self._accounts[account] = unsafe_add(unsafe_sub(word, amount << FROZEN_SHIFT), amount)
    log Unlock(account=account, amount=amount, ref=ref)


@internal
def _seize(account: address, amount: uint256, ref: bytes32):
    # frozen -> pot; the pot must be paid out by `_reward` in the same transaction
    word: uint256 = self._accounts[account]
    assert (word >> FROZEN_SHIFT) & AMOUNT_MASK >= amount, "escrow: insufficient frozen balance"
    self._accounts[account] = unsafe_sub(word, amount << FROZEN_SHIFT)
    self._pot += amount
    log Seize(account=account, amount=amount, ref=ref)


@internal
def _reward(account: address, amount: uint256, ref: bytes32):
    # pot -> free; reverts when more is paid than was seized
    assert self._pot >= amount, "escrow: reward above seized funds"
    self._pot = unsafe_sub(self._pot, amount)
    # the amount came out of a balance below 2**96 and the total is conserved
    self._accounts[account] = unsafe_add(self._accounts[account], amount)
    log Reward(account=account, amount=amount, ref=ref)


@internal
def _seize_to_kitty(account: address, amount: uint256, ref: bytes32):
    # frozen -> kitty (a failed task's pool stake)
    self._seize(account, amount, ref)
    self._pot = unsafe_sub(self._pot, amount)  # just added
    self._kitty += amount
    log KittyChanged(old_kitty=self._kitty - amount, new_kitty=self._kitty, ref=ref)


@internal
def _take_from_kitty(amount: uint256, ref: bytes32):
    # kitty -> pot, for `_reward` to pay out
    assert self._kitty >= amount, "escrow: kitty too small"
    self._kitty = unsafe_sub(self._kitty, amount)
    self._pot += amount
    log KittyChanged(old_kitty=self._kitty + amount, new_kitty=self._kitty, ref=ref)


@internal
@view
def _check_pot_empty():
    # every settlement pays out exactly what it seized
    assert self._pot == 0, "escrow: seized funds left unpaid"
