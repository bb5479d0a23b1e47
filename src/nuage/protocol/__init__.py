"""nuage's protocol, pure: orders, EIP-712, ids, tags, match checks, deals, PoCo rules.

Nothing here does I/O; the chain layer, the market, the scheduler and the CLI build on it.
"""

from nuage.protocol.consensus import Consensus, replicas_needed, weight
from nuage.protocol.deals import Deal
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
from nuage.protocol.poco import TaskStatus, result_hash, result_seal, sign_authorization
from nuage.protocol.rewards import Settlement, settle, settle_fast

__all__ = [
    "ZERO_ADDRESS",
    "AppOrder",
    "ChainFacts",
    "Consensus",
    "DatasetOrder",
    "Deal",
    "Domain",
    "Incompatibility",
    "MatchVerdict",
    "Operation",
    "Order",
    "RequestOrder",
    "Settlement",
    "TaskStatus",
    "WorkerpoolOrder",
    "WorkerpoolPolicy",
    "check_match",
    "deal_id",
    "digest",
    "hash_struct",
    "is_signed",
    "recover",
    "replicas_needed",
    "result_hash",
    "result_seal",
    "settle",
    "settle_fast",
    "sign_authorization",
    "sign_digest",
    "task_id",
    "to_compact",
    "weight",
]
