# pragma version 0.4.3
"""
@title Escrow: RLC accounts inside the hub
@license Apache-2.0
@notice Each account holds a free balance (spendable, withdrawable) and a
        frozen balance (locked by deals and stakes). Both live in one
        storage word (free in the low 128 bits, frozen in the high ones)
        so that locking costs one storage write.
        Money is conserved: the sum of all free and frozen balances, plus
        the kitty (added by the PoCo module), equals the RLC the hub holds;
        within a transaction, amounts seized from frozen balances sit in a
        transient pot that only `_reward` may spend.
@custom:security Every balance stays below 2**96 (`MAX_BALANCE`), which
        bounds every price the market records; RLC's total supply
        (8.7 * 10**16 nRLC) is far below it.
"""

from ethereum.ercs import IERC20
from interfaces import IApprovalReceiver

implements: IApprovalReceiver

MAX_BALANCE: constant(uint256) = 2**96
HALF: constant(uint256) = 128
LOW_MASK: constant(uint256) = 2**128 - 1


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


TOKEN: public(immutable(IERC20))

_accounts: HashMap[address, uint256]
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
    return self._accounts[account] & LOW_MASK


@external
@view
def frozenOf(account: address) -> uint256:
    """
    @notice The frozen (locked) balance of `account`, in nRLC.
    """
    return self._accounts[account] >> HALF


@internal
def _pull(sender: address, account: address, amount: uint256):
    assert amount > 0, "escrow: zero amount"
    word: uint256 = self._accounts[account]
    assert (word & LOW_MASK) + (word >> HALF) + amount < MAX_BALANCE, "escrow: balance above 2**96"
    self._accounts[account] = word + amount  # free part cannot carry: below 2**96
    log Deposit(account=account, sender=sender, amount=amount)
    assert extcall TOKEN.transferFrom(sender, self, amount), "escrow: token transfer failed"


@internal
def _withdraw(receiver: address, amount: uint256):
    assert amount > 0, "escrow: zero amount"
    word: uint256 = self._accounts[msg.sender]
    assert word & LOW_MASK >= amount, "escrow: insufficient free balance"
    self._accounts[msg.sender] = unsafe_sub(word, amount)  # free part checked above
    log Withdraw(account=msg.sender, receiver=receiver, amount=amount)
    assert extcall TOKEN.transfer(receiver, amount), "escrow: token transfer failed"


@internal
@view
def _free(account: address) -> uint256:
    return self._accounts[account] & LOW_MASK


@internal
def _lock(account: address, amount: uint256, ref: bytes32):
    # free -> frozen; callers check the free balance to give their own reason
    word: uint256 = self._accounts[account]
    assert word & LOW_MASK >= amount, "escrow: insufficient free balance"
    # frozen + free stays below 2**96: the move cannot carry out of either half
    self._accounts[account] = unsafe_add(unsafe_sub(word, amount), amount << HALF)
    log Lock(account=account, amount=amount, ref=ref)


@internal
def _unlock(account: address, amount: uint256, ref: bytes32):
    # frozen -> free
    word: uint256 = self._accounts[account]
    assert word >> HALF >= amount, "escrow: insufficient frozen balance"
    self._accounts[account] = unsafe_add(unsafe_sub(word, amount << HALF), amount)
    log Unlock(account=account, amount=amount, ref=ref)


@internal
def _seize(account: address, amount: uint256, ref: bytes32):
    # frozen -> pot; the pot must be paid out by `_reward` in the same transaction
    word: uint256 = self._accounts[account]
    assert word >> HALF >= amount, "escrow: insufficient frozen balance"
    self._accounts[account] = unsafe_sub(word, amount << HALF)
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
