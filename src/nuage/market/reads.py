"""What the market reads from the chain, behind one small interface.

`ChainReads` is everything the book needs: who owns an asset, how much of an order deals have
used, who presigned it, a pool's policy, free balances and the number of categories.
`ContractReads` answers from the deployed contracts; tests use a fake that passes the same
tests (``tests/market``). `chain_facts` gathers, for a set of orders, the `ChainFacts` snapshot
that `nuage.protocol.matching.check_match` judges them against.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from web3 import Web3

from nuage.chain.bindings import Contracts
from nuage.protocol.eip712 import Domain
from nuage.protocol.matching import ChainFacts, WorkerpoolPolicy
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = ["AssetKind", "ChainReads", "ContractReads", "chain_facts", "order_owner"]

AssetKind = str  # "app", "dataset" or "workerpool"


class ChainReads(Protocol):
    """The chain as the market sees it. Addresses come back checksummed; none is ZERO_ADDRESS."""

    @property
    def domain(self) -> Domain:
        """The market contract's EIP-712 domain, where orders are signed."""
        ...

    def asset_owner(self, kind: AssetKind, asset: str) -> str:
        """The owner of an app, dataset or workerpool, or ZERO_ADDRESS when unregistered."""
        ...

    def workerpool_policy(self, workerpool: str) -> WorkerpoolPolicy:
        """The pool's owner (ZERO_ADDRESS when unregistered) and ratios."""
        ...

    def consumed(self, order_hash: bytes) -> int:
        """How much of the order's volume deals used; its whole volume once cancelled."""
        ...

    def presigned(self, order_hash: bytes) -> str:
        """Who presigned the order on chain, or ZERO_ADDRESS."""
        ...

    def free_balance(self, address: str) -> int:
        """The account's free nRLC in the hub."""
        ...

    def category_count(self) -> int:
        """How many categories exist (valid categories are 0 .. count - 1)."""
        ...


class ContractReads:
    """`ChainReads` from the deployed contracts of one deployment."""

    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self._domain = Domain(
            chain_id=contracts.deployment.chain_id, verifying_contract=contracts.market.address
        )
        self._registries = {
            "app": contracts.app_registry,
            "dataset": contracts.dataset_registry,
            "workerpool": contracts.workerpool_registry,
        }

    @property
    def domain(self) -> Domain:
        return self._domain

    def asset_owner(self, kind: AssetKind, asset: str) -> str:
        owner = self._registries[kind].functions.assetOwner(_checksum(asset)).call()
        return _checksum(owner)

    def workerpool_policy(self, workerpool: str) -> WorkerpoolPolicy:
        registry = self.contracts.workerpool_registry
        owner, stake_ratio, scheduler_ratio = registry.functions.workerpoolPolicy(
            _checksum(workerpool)
        ).call()
        return WorkerpoolPolicy(_checksum(owner), int(stake_ratio), int(scheduler_ratio))

    def consumed(self, order_hash: bytes) -> int:
        return self.contracts.consumed(order_hash)

    def presigned(self, order_hash: bytes) -> str:
        return _checksum(self.contracts.market.functions.viewPresigned(order_hash).call())

    def free_balance(self, address: str) -> int:
        return int(self.contracts.hub.functions.balanceOf(_checksum(address)).call())

    def category_count(self) -> int:
        return int(self.contracts.market.functions.countCategory().call())


def _checksum(address: str) -> str:
    return str(Web3.to_checksum_address(address))


def order_owner(reads: ChainReads, order: Order) -> str:
    """Who must sign `order`: its asset's owner now, or a request's requester."""
    if isinstance(order, AppOrder):
        return reads.asset_owner("app", order.app)
    if isinstance(order, DatasetOrder):
        return reads.asset_owner("dataset", order.dataset)
    if isinstance(order, WorkerpoolOrder):
        return reads.asset_owner("workerpool", order.workerpool)
    assert isinstance(order, RequestOrder)
    return order.requester


def chain_facts(
    reads: ChainReads,
    apps: Iterable[AppOrder],
    datasets: Iterable[DatasetOrder],
    workerpools: Iterable[WorkerpoolOrder],
    requests: Iterable[RequestOrder],
    *,
    assume_signed: Iterable[RequestOrder] = (),
) -> ChainFacts:
    """What `matchOrders` would read about these orders now, as `check_match` takes it.

    Each asset's owner, each order's consumed volume and (for unsigned orders) presigner, the
    pools' policies, the free balances of requesters and pool owners, and the category count.
    Requests in `assume_signed` are judged as if their requester had signed them (a request
    being drafted, whose signature is not the question).
    """
    domain = reads.domain
    app_list, dataset_list = list(apps), [d for d in datasets if not d.is_none]
    pool_list, request_list = list(workerpools), list(requests)
    app_owners = {a: reads.asset_owner("app", a) for a in {o.app for o in app_list}}
    dataset_owners = {d: reads.asset_owner("dataset", d) for d in {o.dataset for o in dataset_list}}
    policies = {p: reads.workerpool_policy(p) for p in {o.workerpool for o in pool_list}}
    orders: list[Order] = [*app_list, *dataset_list, *pool_list, *request_list]
    hashes = {order.hash(domain): order for order in orders}
    consumed = {h: reads.consumed(h) for h in hashes}
    presigned = {h: reads.presigned(h) for h, order in hashes.items() if not order.sign}
    for request in assume_signed:
        presigned[request.hash(domain)] = request.requester
    payers = {r.requester for r in request_list} | {p.owner for p in policies.values()}
    balances = {a: reads.free_balance(a) for a in payers if a != ZERO_ADDRESS}
    return ChainFacts(
        domain=domain,
        category_count=reads.category_count(),
        app_owners={a: o for a, o in app_owners.items() if o != ZERO_ADDRESS},
        dataset_owners={d: o for d, o in dataset_owners.items() if o != ZERO_ADDRESS},
        workerpools={p: policy for p, policy in policies.items() if policy.owner != ZERO_ADDRESS},
        consumed={h: c for h, c in consumed.items() if c},
        presigned={h: s for h, s in presigned.items() if s != ZERO_ADDRESS},
        free_balances=balances,
    )
