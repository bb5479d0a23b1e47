"""nuage's protocol, pure: order types, EIP-712, ids, tags and the match checks.

Nothing here does I/O; the chain layer, the market and the CLI build on it.
"""

from nuage.protocol.eip712 import Domain, digest, hash_struct, recover, sign_digest, to_compact
from nuage.protocol.ids import deal_id, task_id
from nuage.protocol.matching import (
    ChainFacts,
    Incompatibility,
    MatchVerdict,
    WorkerpoolPolicy,
    check_match,
    is_signed,
)
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Operation,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = [
    "ZERO_ADDRESS",
    "AppOrder",
    "ChainFacts",
    "DatasetOrder",
    "Domain",
    "Incompatibility",
    "MatchVerdict",
    "Operation",
    "Order",
    "RequestOrder",
    "WorkerpoolOrder",
    "WorkerpoolPolicy",
    "check_match",
    "deal_id",
    "digest",
    "hash_struct",
    "is_signed",
    "recover",
    "sign_digest",
    "task_id",
    "to_compact",
]
