# pragma version 0.4.3
"""
@title nuage market
@license Apache-2.0
@notice Where orders meet: EIP-712 orders (signed or presigned, cancelled,
        consumed), the categories of work, and `matchOrders`, which turns
        four compatible orders into a deal. The money is the hub's: the
        market asks it to lock the requester's payment and the pool owner's
        stake and to keep the deal's commitment.
"""

from interfaces import IAssetRegistry
from interfaces import IHub
from modules import categories
from modules import eip712
from modules import market
from modules import orders
from modules import ownable

initializes: ownable
initializes: eip712
initializes: orders[eip712 := eip712]
initializes: categories[ownable := ownable]
initializes: market[categories := categories, orders := orders]

exports: (
    ownable.__interface__,
    eip712.__interface__,
    orders.__interface__,
    categories.__interface__,
    market.__interface__,
)


@deploy
def __init__(
    hub: IHub,
    app_registry: IAssetRegistry,
    dataset_registry: IAssetRegistry,
    workerpool_registry: IAssetRegistry,
):
    """
    @notice Deploys the market for `hub` and the three registries; the
            deployer owns it (may add categories) and categories XS..XL
            exist from the start. The hub must then bind this market.
    """
    ownable.__init__()
    eip712.__init__()
    orders.__init__(app_registry, dataset_registry, workerpool_registry)
    categories.__init__()
    market.__init__(hub)
