# pragma version 0.4.3
"""
@title PoCo test harness
@license Apache-2.0
@notice Test-only: the hub exactly as `contracts/Hub.vy` composes it (the
        same modules, initialized the same way, every export), plus a
        setter for a worker's score and the consensus arithmetic made
        external, so property tests can set up weighted consensus without
        finalizing hundreds of tasks. Never deployed outside tests.
"""

from ethereum.ercs import IERC20
from modules import eip712
from modules import escrow
from modules import ownable
from modules import poco

initializes: ownable
initializes: eip712
initializes: escrow
initializes: poco[eip712 := eip712, escrow := escrow, ownable := ownable]

exports: (
    ownable.__interface__,
    eip712.__interface__,
    escrow.__interface__,
    poco.__interface__,
)


@deploy
def __init__(token: IERC20):
    ownable.__init__()
    eip712.__init__()
    escrow.__init__(token)


@external
def set_score(worker: address, score: uint256):
    """
    @notice Sets `worker`'s reputation score (below 2**64), its balances untouched.
    """
    assert score < 2**64, "harness: score above 64 bits"
    escrow._set_score(worker, score)


@external
@pure
def weight(score: uint256) -> uint256:
    """
    @notice The hub's vote weight of a worker of score `score`.
    """
    return poco._weight(score)


@external
@pure
def log2(x: uint256) -> uint256:
    """
    @notice The hub's floor(log2(x)), x >= 1.
    """
    return poco._log2(x)

