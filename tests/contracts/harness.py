"""One object that deploys the whole protocol and speaks for its actors.

Actors are named by role and hold real secp256k1 keys, so orders and
authorizations are signed exactly as clients sign them (`nuage.protocol`).
`state_root()` fingerprints the whole chain: a refused call must leave it
unchanged. Contracts: `rlc`, the registries `apps` / `datasets` /
`workerpools`, the `hub` (escrow + PoCo) and the `market` (orders + matching).
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
    ZERO_ADDRESS,
    AppOrder,
    ChainFacts,
    DatasetOrder,
    Domain,
    RequestOrder,
    WorkerpoolOrder,
    WorkerpoolPolicy,
)
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import result_hash, result_seal, sign_authorization
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
    """Signed orders ready to match."""

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
    market: Any
    _salts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def deploy(cls, deployer: Actor, supply: int = RLC_SUPPLY) -> Protocol:
        with boa.env.prank(deployer.address):
            rlc = deployers.RLC.deploy(supply)
            apps = deployers.APP_REGISTRY.deploy()
            datasets = deployers.DATASET_REGISTRY.deploy()
            workerpools = deployers.WORKERPOOL_REGISTRY.deploy()
            hub = deployers.HUB.deploy(rlc)
            market = deployers.MARKET.deploy(hub, apps, datasets, workerpools)
            hub.bindMarket(market)
        return cls(deployer, rlc, apps, datasets, workerpools, hub, market)

    @property
    def domain(self) -> Domain:
        """The market's EIP-712 domain, where orders are signed."""
        return Domain(chain_id=boa.env.evm.patch.chain_id, verifying_contract=self.market.address)

    @property
    def hub_domain(self) -> Domain:
        """The hub's EIP-712 domain, where authorizations are signed."""
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
            return bytes(self.market.matchOrders(*deal.as_args()))

    def match_record(self, deal: Deal, sender: Actor | None = None) -> tuple[bytes, DealRecord]:
        """Match, and return the deal id with the record from `DealCreated`."""
        deal_id = self.match(deal, sender)
        created = [log for log in self.market.get_logs() if type(log).__name__ == "DealCreated"]
        return deal_id, DealRecord.from_tuple(created[-1].deal)

    # -- PoCo --------------------------------------------------------------------

    def authorize(
        self, pool_owner: Actor, worker: Actor, task: bytes, enclave: str = ZERO_ADDRESS
    ) -> bytes:
        return sign_authorization(pool_owner.key, self.hub_domain, worker.address, task, enclave)

    def initialize(
        self, record: DealRecord, deal_id: bytes, index: int, sender: Actor | None = None
    ) -> bytes:
        with boa.env.prank((sender or self.deployer).address):
            return bytes(self.hub.initialize(record.as_tuple(), deal_id, index))

    def contribute(
        self,
        record: DealRecord,
        deal_id: bytes,
        index: int,
        worker: Actor,
        pool_owner: Actor,
        digest: bytes,
        *,
        authorization: bytes | None = None,
    ) -> None:
        task = record.task_ids(deal_id)[index - record.bot_first]
        authorization = authorization or self.authorize(pool_owner, worker, task)
        with boa.env.prank(worker.address):
            self.hub.contribute(
                record.as_tuple(),
                deal_id,
                index,
                result_hash(task, digest),
                result_seal(worker.address, task, digest),
                ZERO_ADDRESS,
                b"",
                authorization,
            )

    def reveal(self, task: bytes, worker: Actor, digest: bytes) -> None:
        with boa.env.prank(worker.address):
            self.hub.reveal(task, digest)

    def finalize(
        self,
        record: DealRecord,
        deal_id: bytes,
        index: int,
        contributors: list[Actor],
        results: bytes = b"\x01" * 32,
        callback_data: bytes = b"",
    ) -> None:
        ordered = sorted((a.address for a in contributors), key=lambda a: int(a, 16))
        with boa.env.prank(record.workerpool_owner):
            self.hub.finalize(record.as_tuple(), deal_id, index, results, callback_data, ordered)

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
            category_count=self.market.countCategory(),
            app_owners={deal.app.app: str(self.apps.assetOwner(deal.app.app))},
            dataset_owners={
                deal.dataset.dataset: str(self.datasets.assetOwner(deal.dataset.dataset))
            },
            workerpools={
                deal.workerpool.workerpool: WorkerpoolPolicy(
                    str(owner), stake_ratio, scheduler_ratio
                )
            },
            consumed={h: self.market.viewConsumed(h) for h in hashes},
            presigned={h: str(self.market.viewPresigned(h)) for h in hashes},
            free_balances={a: self.hub.balanceOf(a) for a in accounts},
        )

    def money(self, actors: list[Actor]) -> int:
        """Free + frozen of `actors` plus the kitty: equals the hub's RLC when all are listed."""
        return sum(sum(self.account(a)) for a in actors) + self.hub.kitty()

    @staticmethod
    def state_root() -> bytes:
        """A fingerprint of the whole chain state; unchanged means nothing moved.

        py-evm's own `make_state_root()` persists the journal and so breaks every open
        `boa.env.anchor()`; this hashes the last persisted root plus the journal's pending
        account and storage values instead, leaving checkpoints alone.
        """
        db = boa.env.evm.vm.state._account_db
        parts = [
            repr(db._root_hash_at_last_persist),
            repr(_pending(db._journaldb)),
            repr(_pending(db._journaltrie)),
        ]
        for address, store in sorted(db._account_stores.items()):
            layers = (_pending(store._journal_storage), _pending(store._locked_changes))
            if any(layers):
                parts.append(repr((bytes(address), layers)))
        return hashlib.sha256("|".join(parts).encode()).digest()


def _pending(journal_db: Any) -> list[tuple[bytes, str]]:
    values = journal_db._journal._current_values
    return sorted((bytes(key), repr(value)) for key, value in values.items())
