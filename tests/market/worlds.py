"""Two chains for the market's tests, driven the same way: a fake in memory and anvil.

A `World` registers assets, funds accounts, presigns, cancels, transfers and matches orders,
and brings a market's book up to date with what happened (`sync`). `FakeWorld` keeps the chain
in dicts (`FakeReads` answers the market's reads from them) and hands the book synthesized
events; `ChainWorld` does the same on the real contracts and lets the market's own watcher read
the logs. The service tests run against both, so the fake is proven by its twin.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from fastapi import FastAPI

from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment
from nuage.chain.watcher import Event, SqlCursorStore
from nuage.exceptions import ContractRevert
from nuage.market.follower import BookFollower
from nuage.market.reads import ContractReads, chain_facts
from nuage.market.tables import CURSORS
from nuage.market.wire import OrderKind
from nuage.protocol import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Domain,
    Operation,
    Order,
    RequestOrder,
    WorkerpoolOrder,
    WorkerpoolPolicy,
)
from nuage.protocol.matching import WORKERPOOL_STAKE_RATIO, check_match

NRLC = 10**9
FUNDS = 1_000 * NRLC


def actor(role: str) -> LocalAccount:
    """A test actor named by its role, with its own key."""
    return Account.from_key(keccak(text=f"nuage market test {role}"))


class World(ABC):
    """A chain the market follows, and the actions the tests take on it."""

    reads: Any  # ChainReads
    registries: dict[str, OrderKind]

    def __init__(self) -> None:
        self._salts = itertools.count(1)
        self._names = itertools.count(1)

    @property
    def domain(self) -> Domain:
        return self.reads.domain

    def salt(self) -> bytes:
        return keccak(text=f"{id(self)} salt {next(self._salts)}")

    def name(self, what: str) -> str:
        return f"{what} {next(self._names)} {id(self)}"

    # -- signed orders

    def app_order(self, app: str, owner: LocalAccount, **fields: Any) -> AppOrder:
        order = AppOrder(app=app, salt=fields.pop("salt", self.salt()), **fields)
        return order.signed(owner.key, self.domain)

    def dataset_order(self, dataset: str, owner: LocalAccount, **fields: Any) -> DatasetOrder:
        volume = fields.pop("volume", 1)
        salt = fields.pop("salt", self.salt())
        order = DatasetOrder(dataset=dataset, volume=volume, salt=salt, **fields)
        return order.signed(owner.key, self.domain)

    def workerpool_order(self, pool: str, owner: LocalAccount, **fields: Any) -> WorkerpoolOrder:
        order = WorkerpoolOrder(workerpool=pool, salt=fields.pop("salt", self.salt()), **fields)
        return order.signed(owner.key, self.domain)

    def request_order(self, app: str, requester: LocalAccount, **fields: Any) -> RequestOrder:
        salt = fields.pop("salt", self.salt())
        order = RequestOrder(app=app, requester=requester.address, salt=salt, **fields)
        return order.signed(requester.key, self.domain)

    # -- what happens on chain

    @abstractmethod
    def new_app(self, owner: LocalAccount) -> str: ...

    @abstractmethod
    def new_dataset(self, owner: LocalAccount) -> str: ...

    @abstractmethod
    def new_workerpool(self, owner: LocalAccount) -> str: ...

    @abstractmethod
    def deposit(self, account: LocalAccount, amount: int) -> None: ...

    @abstractmethod
    def presign(self, order: Order, owner: LocalAccount) -> None: ...

    @abstractmethod
    def cancel(self, order: Order, owner: LocalAccount) -> None: ...

    @abstractmethod
    def transfer(self, kind: OrderKind, asset: str, owner: LocalAccount, receiver: str) -> None: ...

    @abstractmethod
    def match(
        self, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder
    ) -> str | None:
        """Matches the orders on chain: None, or the revert reason."""

    @abstractmethod
    def sync(self, app: FastAPI) -> int:
        """Brings the market's book up to date with the chain; how many events it handled."""


# -- the fake ------------------------------------------------------------------------------------


@dataclass
class FakeReads:
    """`ChainReads` from dicts: what the fake chain holds."""

    domain: Domain
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    policies: dict[str, WorkerpoolPolicy] = field(default_factory=dict)
    consumed_volumes: dict[bytes, int] = field(default_factory=dict)
    presigners: dict[bytes, str] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    categories: int = 5

    def asset_owner(self, kind: str, asset: str) -> str:
        if kind == "workerpool":
            return self.workerpool_policy(asset).owner
        return self.owners.get((kind, to_checksum_address(asset)), ZERO_ADDRESS)

    def workerpool_policy(self, workerpool: str) -> WorkerpoolPolicy:
        return self.policies.get(
            to_checksum_address(workerpool), WorkerpoolPolicy(ZERO_ADDRESS, 0, 0)
        )

    def consumed(self, order_hash: bytes) -> int:
        return self.consumed_volumes.get(order_hash, 0)

    def presigned(self, order_hash: bytes) -> str:
        return self.presigners.get(order_hash, ZERO_ADDRESS)

    def free_balance(self, address: str) -> int:
        return self.balances.get(to_checksum_address(address), 0)

    def category_count(self) -> int:
        return self.categories


FAKE_MARKET = "0x000000000000000000000000000000000000aAaA"
FAKE_REGISTRIES: dict[str, OrderKind] = {
    "0x000000000000000000000000000000000000a001": "app",
    "0x000000000000000000000000000000000000a002": "dataset",
    "0x000000000000000000000000000000000000a003": "workerpool",
}


class FakeWorld(World):
    """The chain in memory; each action appends the events the contracts would emit."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = FakeReads(Domain(chain_id=31337, verifying_contract=FAKE_MARKET))
        self.registries = {to_checksum_address(a): k for a, k in FAKE_REGISTRIES.items()}
        self.events: list[Event] = []
        self._synced: dict[int, int] = {}

    def _asset(self, kind: OrderKind, owner: LocalAccount) -> str:
        asset = to_checksum_address(keccak(text=self.name(kind))[-20:])
        if kind == "workerpool":
            self.reads.policies[asset] = WorkerpoolPolicy(owner.address, 30, 1)
        else:
            self.reads.owners[(kind, asset)] = owner.address
        self._emit(
            self._registry(kind),
            "Transfer",
            sender=ZERO_ADDRESS,
            receiver=owner.address,
            token_id=int(asset, 16),
        )
        return asset

    def new_app(self, owner: LocalAccount) -> str:
        return self._asset("app", owner)

    def new_dataset(self, owner: LocalAccount) -> str:
        return self._asset("dataset", owner)

    def new_workerpool(self, owner: LocalAccount) -> str:
        return self._asset("workerpool", owner)

    def deposit(self, account: LocalAccount, amount: int) -> None:
        self.deposit_to(account.address, amount)

    def deposit_to(self, address: str, amount: int) -> None:
        self.reads.balances[address] = self.reads.balances.get(address, 0) + amount

    def presign(self, order: Order, owner: LocalAccount) -> None:
        order_hash = order.hash(self.domain)
        self.reads.presigners[order_hash] = owner.address
        self._emit(
            FAKE_MARKET,
            "OrderPresigned",
            order_hash=order_hash,
            owner=owner.address,
            kind=order.KIND,
        )

    def cancel(self, order: Order, owner: LocalAccount) -> None:
        order_hash = order.hash(self.domain)
        volume = order.message()["volume"]
        consumed = self.reads.consumed_volumes
        consumed[order_hash] = max(consumed.get(order_hash, 0), volume)
        self._emit(
            FAKE_MARKET, "OrderClosed", order_hash=order_hash, owner=owner.address, kind=order.KIND
        )

    def transfer(self, kind: OrderKind, asset: str, owner: LocalAccount, receiver: str) -> None:
        asset = to_checksum_address(asset)
        if kind == "workerpool":
            old = self.reads.policies[asset]
            self.reads.policies[asset] = WorkerpoolPolicy(
                receiver, old.worker_stake_ratio, old.scheduler_reward_ratio
            )
        else:
            self.reads.owners[(kind, asset)] = receiver
        self._emit(
            self._registry(kind),
            "Transfer",
            sender=owner.address,
            receiver=receiver,
            token_id=int(asset, 16),
        )

    def match(
        self, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder
    ) -> str | None:
        facts = chain_facts(self.reads, [app], [dataset], [pool], [request])
        verdict = check_match(app, dataset, pool, request, facts)
        if not verdict.ok:
            return verdict.revert_reason
        consumed = self.reads.consumed_volumes
        for order_hash in (
            verdict.app_order_hash,
            verdict.workerpool_order_hash,
            verdict.request_order_hash,
            verdict.dataset_order_hash,
        ):
            if any(order_hash):
                consumed[order_hash] = consumed.get(order_hash, 0) + verdict.volume
        policy = self.reads.workerpool_policy(pool.workerpool)
        stake = pool.workerpoolprice * WORKERPOOL_STAKE_RATIO // 100 * verdict.volume
        self.deposit_to(request.requester, -verdict.cost)
        self.deposit_to(policy.owner, -stake)
        self._emit(
            FAKE_MARKET,
            "OrdersMatched",
            deal_id=verdict.deal_id,
            app_order_hash=verdict.app_order_hash,
            dataset_order_hash=verdict.dataset_order_hash,
            workerpool_order_hash=verdict.workerpool_order_hash,
            request_order_hash=verdict.request_order_hash,
            volume=verdict.volume,
        )
        self._emit(
            FAKE_MARKET,
            "DealCreated",
            deal_id=verdict.deal_id,
            deal={
                "app": app.app,
                "workerpool": pool.workerpool,
                "requester": request.requester,
                "bot_size": verdict.volume,
            },
            params=request.params,
        )
        return None

    def sync(self, app: FastAPI) -> int:
        market = app.state.market
        book = market.book
        follower = BookFollower(
            book, self.reads, self.registries, SqlCursorStore(book.engine, CURSORS)
        )
        start = self._synced.get(id(app), 0)
        for event in self.events[start:]:
            follower.apply(event)
        self._synced[id(app)] = len(self.events)
        return len(self.events) - start

    def _registry(self, kind: OrderKind) -> str:
        return next(a for a, k in self.registries.items() if k == kind)

    def _emit(self, address: str, name: str, **args: Any) -> None:
        block = len(self.events) + 1
        self.events.append(
            Event(
                address=to_checksum_address(address),
                name=name,
                args=args,
                block_number=block,
                block_hash="0x" + keccak(text=f"block {block}").hex(),
                transaction_hash="0x" + keccak(text=f"tx {block}").hex(),
                log_index=0,
            )
        )


# -- the real twin -------------------------------------------------------------------------------


class ChainWorld(World):
    """The deployed contracts on anvil; the market's watcher reads their logs."""

    def __init__(self, chain: Chain, deployment: Deployment, deployer: LocalAccount) -> None:
        super().__init__()
        self.chain = chain
        self.deployer = deployer
        self.contracts = Contracts(chain, deployment)
        self.reads = ContractReads(self.contracts)
        self.registries = {
            deployment.app_registry: "app",
            deployment.dataset_registry: "dataset",
            deployment.workerpool_registry: "workerpool",
        }
        self._funded: set[str] = set()

    def _fund(self, account: LocalAccount) -> None:
        if account.address not in self._funded:
            self.chain.fund_eth(account.address, 10**20)
            self._funded.add(account.address)

    def new_app(self, owner: LocalAccount) -> str:
        self._fund(owner)
        registry = self.contracts.app_registry
        args = (owner.address, self.name("app"), 0, b"", keccak(text=self.name("bundle")), b"")
        self.chain.transact(registry.functions.createApp(*args), owner)
        return str(registry.functions.predictApp(*args).call())

    def new_dataset(self, owner: LocalAccount) -> str:
        self._fund(owner)
        registry = self.contracts.dataset_registry
        args = (owner.address, self.name("dataset"), b"", keccak(text=self.name("data")))
        self.chain.transact(registry.functions.createDataset(*args), owner)
        return str(registry.functions.predictDataset(*args).call())

    def new_workerpool(self, owner: LocalAccount) -> str:
        self._fund(owner)
        registry = self.contracts.workerpool_registry
        args = (owner.address, self.name("pool"))
        self.chain.transact(registry.functions.createWorkerpool(*args), owner)
        return str(registry.functions.predictWorkerpool(*args).call())

    def deposit(self, account: LocalAccount, amount: int) -> None:
        self._fund(account)
        self.contracts.transfer_rlc(self.deployer, account.address, amount)
        self.contracts.deposit(account, amount)

    def _manage(self, order: Order, owner: LocalAccount, operation: Operation) -> None:
        self._fund(owner)
        kind = order.TYPE_NAME.removesuffix("Order")
        manage = getattr(self.contracts.market.functions, f"manage{kind}Order")
        self.chain.transact(manage(order.as_tuple(), int(operation), b""), owner)

    def presign(self, order: Order, owner: LocalAccount) -> None:
        self._manage(order, owner, Operation.SIGN)

    def cancel(self, order: Order, owner: LocalAccount) -> None:
        self._manage(order, owner, Operation.CLOSE)

    def transfer(self, kind: OrderKind, asset: str, owner: LocalAccount, receiver: str) -> None:
        self._fund(owner)
        registry = {
            "app": self.contracts.app_registry,
            "dataset": self.contracts.dataset_registry,
            "workerpool": self.contracts.workerpool_registry,
        }[kind]
        call = registry.functions.transferFrom(owner.address, receiver, int(asset, 16))
        self.chain.transact(call, owner)

    def match(
        self, app: AppOrder, dataset: DatasetOrder, pool: WorkerpoolOrder, request: RequestOrder
    ) -> str | None:
        call = self.contracts.market.functions.matchOrders(
            app.as_tuple(), dataset.as_tuple(), pool.as_tuple(), request.as_tuple()
        )
        try:
            self.chain.transact(call, self.deployer)
        except ContractRevert as refused:
            return refused.reason
        return None

    def sync(self, app: FastAPI) -> int:
        market = app.state.market
        return int(market.follower.catch_up(market.watcher))
