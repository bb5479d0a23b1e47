"""One object that deploys the whole protocol and speaks for its actors.

Actors are named by role and hold real secp256k1 keys, so orders are signed
exactly as clients sign them (`nuage.protocol`). `state_root()` fingerprints
the whole chain: a refused call must leave it unchanged.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import boa
from eth_account import Account
from eth_utils import keccak

from nuage.protocol import (
    AppOrder,
    ChainFacts,
    DatasetOrder,
    Domain,
    RequestOrder,
    WorkerpoolOrder,
    WorkerpoolPolicy,
)
from tests.contracts import deployers

RLC_SUPPLY = 87_000_000 * 10**9  # 87M RLC in nRLC
BUNDLE = 0
DOCKER = 1


@dataclass(frozen=True)
class Actor:
    """A named role with its own key."""

    name: str
    key: bytes
    address: str

    @classmethod
    def named(cls, name: str) -> Actor:
        key = keccak(text=f"nuage test actor {name}")
        return cls(name=name, key=key, address=Account.from_key(key).address)

    def __str__(self) -> str:
        return self.name


@dataclass
class Deal:
    """Signed orders ready to match, and who made them."""

    app: AppOrder
    dataset: DatasetOrder
    workerpool: WorkerpoolOrder
    request: RequestOrder

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.app.as_tuple(),
            self.dataset.as_tuple(),
            self.workerpool.as_tuple(),
            self.request.as_tuple(),
        )


@dataclass
class Protocol:
    deployer: Actor
    rlc: Any
    apps: Any
    datasets: Any
    workerpools: Any
    hub: Any
    _salts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def deploy(cls, deployer: Actor, supply: int = RLC_SUPPLY) -> Protocol:
        with boa.env.prank(deployer.address):
            rlc = deployers.RLC.deploy(supply)
            apps = deployers.APP_REGISTRY.deploy()
            datasets = deployers.DATASET_REGISTRY.deploy()
            workerpools = deployers.WORKERPOOL_REGISTRY.deploy()
            hub = deployers.HUB.deploy(rlc, apps, datasets, workerpools)
        return cls(deployer, rlc, apps, datasets, workerpools, hub)

    @property
    def domain(self) -> Domain:
        return Domain(chain_id=boa.env.evm.patch.chain_id, verifying_contract=self.hub.address)

    # -- money -----------------------------------------------------------------

    def give_rlc(self, actor: Actor, amount: int) -> None:
        with boa.env.prank(self.deployer.address):
            self.rlc.transfer(actor.address, amount)

    def deposit(self, actor: Actor, amount: int) -> None:
        """Give `actor` RLC and deposit it into the hub (approve + deposit)."""
        self.give_rlc(actor, amount)
        with boa.env.prank(actor.address):
            self.rlc.approve(self.hub.address, amount)
            self.hub.deposit(amount)

    def account(self, actor: Actor | str) -> tuple[int, int]:
        """(free, frozen) of an actor's hub account."""
        address = actor if isinstance(actor, str) else actor.address
        return self.hub.balanceOf(address), self.hub.frozenOf(address)

    # -- assets ----------------------------------------------------------------

    def new_app(self, owner: Actor, name: str = "factorial", checksum: bytes | None = None) -> str:
        checksum = checksum or keccak(text=f"bundle {name} {next(self._salts)}")
        with boa.env.prank(owner.address):
            return str(self.apps.createApp(owner.address, name, BUNDLE, b"", checksum, b""))

    def new_dataset(self, owner: Actor, name: str = "mnist") -> str:
        checksum = keccak(text=f"dataset {name} {next(self._salts)}")
        with boa.env.prank(owner.address):
            return str(self.datasets.createDataset(owner.address, name, b"", checksum))

    def new_workerpool(self, owner: Actor, description: str | None = None) -> str:
        description = description or f"pool {next(self._salts)}"
        with boa.env.prank(owner.address):
            return str(self.workerpools.createWorkerpool(owner.address, description))

    # -- orders ----------------------------------------------------------------

    def salt(self) -> bytes:
        return next(self._salts).to_bytes(32, "big")

    def app_order(self, app: str, owner: Actor, **fields: Any) -> AppOrder:
        order = AppOrder(app=app, salt=fields.pop("salt", self.salt()), **fields)
        return order.signed(owner.key, self.domain)

    def dataset_order(self, dataset: str, owner: Actor, **fields: Any) -> DatasetOrder:
        order = DatasetOrder(
            dataset=dataset,
            volume=fields.pop("volume", 1),
            salt=fields.pop("salt", self.salt()),
            **fields,
        )
        return order.signed(owner.key, self.domain)

    def workerpool_order(self, workerpool: str, owner: Actor, **fields: Any) -> WorkerpoolOrder:
        order = WorkerpoolOrder(
            workerpool=workerpool, salt=fields.pop("salt", self.salt()), **fields
        )
        return order.signed(owner.key, self.domain)

    def request_order(self, app: str, requester: Actor, **fields: Any) -> RequestOrder:
        order = RequestOrder(
            app=app, requester=requester.address, salt=fields.pop("salt", self.salt()), **fields
        )
        return order.signed(requester.key, self.domain)

    def ready_deal(
        self,
        *,
        requester: Actor,
        app_owner: Actor,
        pool_owner: Actor,
        dataset_owner: Actor | None = None,
        price: int = 10**9,
        volume: int = 1,
        trust: int = 0,
        funds: int = 100 * 10**9,
    ) -> Deal:
        """Registered assets, funded accounts and signed, compatible orders."""
        app = self.new_app(app_owner)
        pool = self.new_workerpool(pool_owner)
        self.deposit(requester, funds)
        self.deposit(pool_owner, funds)
        dataset_order = DatasetOrder.none()
        if dataset_owner is not None:
            dataset = self.new_dataset(dataset_owner)
            dataset_order = self.dataset_order(
                dataset, dataset_owner, datasetprice=price, volume=volume
            )
        return Deal(
            app=self.app_order(app, app_owner, appprice=price, volume=volume),
            dataset=dataset_order,
            workerpool=self.workerpool_order(
                pool, pool_owner, workerpoolprice=price, volume=volume, trust=trust
            ),
            request=self.request_order(
                app,
                requester,
                dataset=dataset_order.dataset,
                appmaxprice=price,
                datasetmaxprice=price,
                workerpoolmaxprice=price,
                volume=volume,
                trust=trust,
                params='{"iexec_args": "10"}',
            ),
        )

    def match(self, deal: Deal, sender: Actor | None = None) -> bytes:
        with boa.env.prank((sender or self.deployer).address):
            return bytes(self.hub.matchOrders(*deal.as_args()))

    # -- observation -----------------------------------------------------------

    def facts(self, deal: Deal, accounts: list[str] | None = None) -> ChainFacts:
        """What matchOrders would read for these orders, read from the chain."""
        domain = self.domain
        hashes = [deal.app.hash(domain), deal.workerpool.hash(domain), deal.request.hash(domain)]
        if not deal.dataset.is_none:
            hashes.append(deal.dataset.hash(domain))
        owner, stake_ratio, scheduler_ratio = self.workerpools.workerpoolPolicy(
            deal.workerpool.workerpool
        )
        accounts = [*(accounts or []), deal.request.requester, str(owner)]
        return ChainFacts(
            domain=domain,
            category_count=self.hub.countCategory(),
            app_owners={deal.app.app: str(self.apps.assetOwner(deal.app.app))},
            dataset_owners={
                deal.dataset.dataset: str(self.datasets.assetOwner(deal.dataset.dataset))
            },
            workerpools={
                deal.workerpool.workerpool: WorkerpoolPolicy(
                    str(owner), stake_ratio, scheduler_ratio
                )
            },
            consumed={h: self.hub.viewConsumed(h) for h in hashes},
            presigned={h: str(self.hub.viewPresigned(h)) for h in hashes},
            free_balances={a: self.hub.balanceOf(a) for a in accounts},
        )

    @staticmethod
    def state_root() -> bytes:
        """A fingerprint of the whole chain state; unchanged means nothing moved.

        py-evm's own `make_state_root()` persists the journal and so breaks every open
        `boa.env.anchor()`; this hashes the last persisted root plus the journal's pending
        account and storage values instead, leaving checkpoints alone.
        """
        db = boa.env.evm.vm.state._account_db
        parts = [repr(db._root_hash_at_last_persist), repr(_pending(db._journaldb))]
        for address, store in sorted(db._account_stores.items()):
            layers = (_pending(store._journal_storage), _pending(store._locked_changes))
            if any(layers):
                parts.append(repr((bytes(address), layers)))
        return hashlib.sha256("|".join(parts).encode()).digest()


def _pending(journal_db: Any) -> list[tuple[bytes, str]]:
    values = journal_db._journal._current_values
    return sorted((bytes(key), repr(value)) for key, value in values.items())
