# pragma version 0.4.3
"""
@title Escrow test harness
@license Apache-2.0
@notice Test-only: the escrow module with its internal moves (lock, unlock,
        seize, reward) made external, so tests can drive them directly.
        The seize pot is transient storage, empty at the end of every
        transaction: `seize_and_reward` seizes then rewards in one call.
        Never deployed outside tests.
"""

from ethereum.ercs import IERC20
from modules import escrow

initializes: escrow

exports: escrow.__interface__


@deploy
def __init__(token: IERC20):
    escrow.__init__(token)


@external
def lock(account: address, amount: uint256, ref: bytes32):
    escrow._lock(account, amount, ref)


@external
def unlock(account: address, amount: uint256, ref: bytes32):
    escrow._unlock(account, amount, ref)


@external
def seize(account: address, amount: uint256, ref: bytes32):
    escrow._seize(account, amount, ref)


@external
def reward(account: address, amount: uint256, ref: bytes32):
    escrow._reward(account, amount, ref)


@external
def seize_and_reward(
    account: address,
    amount: uint256,
    receivers: DynArray[address, 8],
    amounts: DynArray[uint256, 8],
    ref: bytes32,
):
    """
    @notice Seizes `amount` from `account`'s frozen balance, then rewards
            `receivers[i]` with `amounts[i]`, all in one transaction.
    """
    escrow._seize(account, amount, ref)
    for i: uint256 in range(len(receivers), bound=8):
        escrow._reward(receivers[i], amounts[i], ref)
