# pragma version 0.4.3
"""
@title nuage hub
@license Apache-2.0
@notice Holds the money and runs the tasks: RLC accounts (escrow: free,
        frozen, worker scores, the kitty) and Proof-of-Contribution (deals
        opened by the market, task lifecycle, consensus, rewards,
        callbacks). Orders and matching live in the market contract, which
        the hub's owner binds once.
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
    """
    @notice Deploys the hub for `token` (RLC); the deployer owns it and must
            bind the market (`bindMarket`).
    """
    ownable.__init__()
    eip712.__init__()
    escrow.__init__(token)
