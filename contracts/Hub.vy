# pragma version 0.4.3
"""
@title nuage hub
@license Apache-2.0
@notice The one contract requesters, asset owners and schedulers talk to:
        RLC accounts (escrow), signed and presigned orders, categories of
        work, and the market that matches orders into deals. Assets live in
        their registries; the RLC token is its own contract.
"""

from ethereum.ercs import IERC20
from interfaces import IAssetRegistry
from modules import categories
from modules import escrow
from modules import market
from modules import orders
from modules import ownable

initializes: ownable
initializes: escrow
initializes: orders
initializes: categories[ownable := ownable]
initializes: market[categories := categories, escrow := escrow, orders := orders]

exports: (
    ownable.__interface__,
    escrow.__interface__,
    orders.__interface__,
    categories.__interface__,
    market.__interface__,
)


@deploy
def __init__(
    token: IERC20,
    app_registry: IAssetRegistry,
    dataset_registry: IAssetRegistry,
    workerpool_registry: IAssetRegistry,
):
    """
    @notice Deploys the hub for `token` (RLC) and the three registries; the
            deployer owns it and categories XS..XL exist from the start.
    """
    ownable.__init__()
    escrow.__init__(token)
    orders.__init__(app_registry, dataset_registry, workerpool_registry)
    categories.__init__()
