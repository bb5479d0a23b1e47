"""Typed calls into the nuage contracts of one deployment.

`Contracts` wraps web3's untyped contract objects with the reads and writes the
off-chain code needs, with Python types in and out, and checks that turn the
commonest refusals into messages before any gas is spent (not enough RLC, not
enough free balance in the hub). Everything else the contracts refuse arrives
as `ContractRevert` with the contract's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

from nuage.chain.client import Chain, revert_reason
from nuage.chain.deployment import Deployment
from nuage.exceptions import ContractRevert, InsufficientFunds
from nuage.protocol.amounts import format_rlc
from nuage.protocol.orders import ZERO_ADDRESS

__all__ = ["AppRecord", "Contracts", "DatasetRecord", "HubAccount", "WorkerpoolRecord"]

BUNDLE, DOCKER = 0, 1  # app types


@dataclass(frozen=True)
class HubAccount:
    """An account in the hub's escrow, in nRLC."""

    free: int  # spendable: deposits, rewards
    frozen: int  # locked by open deals (a requester's payment, a pool's or worker's stake)
    score: int  # a worker's reputation


@dataclass(frozen=True)
class AppRecord:
    """An app as its registry holds it."""

    address: str
    owner: str
    name: str
    app_type: int  # BUNDLE (0) or DOCKER (1)
    multiaddr: bytes
    checksum: bytes  # sha256 of the bundle: its id in storage
    mrenclave: bytes


@dataclass(frozen=True)
class DatasetRecord:
    address: str
    owner: str
    name: str
    multiaddr: bytes
    checksum: bytes


@dataclass(frozen=True)
class WorkerpoolRecord:
    address: str
    owner: str
    description: str
    worker_stake_ratio: int  # percent of the pool price a worker stakes per contribution
    scheduler_reward_ratio: int  # percent of the worker reward the scheduler keeps


class Contracts:
    """The protocol's contracts on one chain, with typed reads and writes."""

    def __init__(self, chain: Chain, deployment: Deployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.rlc: Contract = chain.contract("RLC", deployment.rlc)
        self.hub: Contract = chain.contract("Hub", deployment.hub)
        self.market: Contract = chain.contract("Market", deployment.market)
        self.app_registry: Contract = chain.contract("AppRegistry", deployment.app_registry)
        self.dataset_registry: Contract = chain.contract(
            "DatasetRegistry", deployment.dataset_registry
        )
        self.workerpool_registry: Contract = chain.contract(
            "WorkerpoolRegistry", deployment.workerpool_registry
        )

    @classmethod
    def connect(cls, chain: Chain, deployment: Deployment) -> Contracts:
        """The contracts, after checking that `chain` is the deployment's and has them."""
        deployment.check(chain)
        return cls(chain, deployment)

    # --- RLC --------------------------------------------------------------------------------

    def rlc_balance(self, address: str) -> int:
        """RLC in `address`'s wallet (not in the hub), in nRLC."""
        return int(self.rlc.functions.balanceOf(_address(address)).call())

    def transfer_rlc(self, sender: LocalAccount, receiver: str, amount: int) -> TxReceipt:
        """Sends `amount` nRLC from `sender`'s wallet to `receiver`'s wallet."""
        self._need_rlc(sender.address, amount, "send")
        return self.chain.transact(self.rlc.functions.transfer(_address(receiver), amount), sender)

    # --- the hub's escrow -------------------------------------------------------------------

    def hub_account(self, address: str) -> HubAccount:
        """`address`'s free and frozen RLC in the hub, and its score."""
        checksum = _address(address)
        return HubAccount(
            free=int(self.hub.functions.balanceOf(checksum).call()),
            frozen=int(self.hub.functions.frozenOf(checksum).call()),
            score=int(self.hub.functions.scoreOf(checksum).call()),
        )

    def deposit(self, sender: LocalAccount, amount: int) -> TxReceipt:
        """Moves `amount` nRLC from `sender`'s wallet into its free balance, in one transaction.

        Uses RLC's `approveAndCall`, so no separate approval is needed.
        """
        self._need_rlc(sender.address, amount, "deposit")
        return self.chain.transact(
            self.rlc.functions.approveAndCall(self.hub.address, amount, b""), sender
        )

    def withdraw(self, sender: LocalAccount, amount: int) -> TxReceipt:
        """Moves `amount` nRLC of `sender`'s free balance in the hub back to its wallet."""
        account = self.hub_account(sender.address)
        if account.free < amount:
            frozen = f" ({format_rlc(account.frozen)} more are frozen in deals)"
            raise InsufficientFunds(
                f"{sender.address} has {format_rlc(account.free)} RLC free in the hub"
                f"{frozen if account.frozen else ''} and cannot withdraw {format_rlc(amount)}"
            )
        return self.chain.transact(self.hub.functions.withdraw(amount), sender)

    def kitty(self) -> int:
        return int(self.hub.functions.kitty().call())

    # --- registries and market --------------------------------------------------------------

    def app_owner(self, app: str) -> str:
        return str(self.app_registry.functions.assetOwner(_address(app)).call())

    def dataset_owner(self, dataset: str) -> str:
        return str(self.dataset_registry.functions.assetOwner(_address(dataset)).call())

    def workerpool_owner(self, workerpool: str) -> str:
        return str(self.workerpool_registry.functions.assetOwner(_address(workerpool)).call())

    def register_app(
        self,
        sender: LocalAccount,
        name: str,
        checksum: bytes,
        *,
        multiaddr: bytes = b"",
        app_type: int = BUNDLE,
        mrenclave: bytes = b"",
    ) -> tuple[str, bool]:
        """Registers an app owned by `sender`; (its address, True if created now).

        Registering the same app again changes nothing: its address is derived from the owner
        and the record, so it is simply returned.
        """
        registry = self.app_registry.functions
        args = (sender.address, name, app_type, multiaddr, checksum, mrenclave)
        address = str(registry.predictApp(*args).call())
        if self.app_owner(address) != ZERO_ADDRESS:
            return address, False
        self.chain.transact(registry.createApp(*args), sender)
        return address, True

    def app(self, address: str) -> AppRecord:
        """The app's record; ContractRevert("registry: unknown app") when there is none."""
        raw = self._view(self.app_registry.functions.app(_address(address)), f"app {address}")
        return AppRecord(_address(address), *raw)

    def apps_named(self, name: str) -> list[str]:
        """Addresses of the apps registered under `name`, newest first (scans the mints)."""
        mints = self.app_registry.events.Transfer().get_logs(
            from_block=self.deployment.block, argument_filters={"sender": ZERO_ADDRESS}
        )
        found = []
        for entry in reversed(mints):
            address = _address("0x" + int(entry["args"]["token_id"]).to_bytes(20, "big").hex())
            if address not in found and self.app(address).name == name:
                found.append(address)
        return found

    def register_dataset(
        self, sender: LocalAccount, name: str, checksum: bytes, *, multiaddr: bytes = b""
    ) -> tuple[str, bool]:
        """Registers a dataset owned by `sender`; (its address, True if created now)."""
        registry = self.dataset_registry.functions
        args = (sender.address, name, multiaddr, checksum)
        address = str(registry.predictDataset(*args).call())
        if self.dataset_owner(address) != ZERO_ADDRESS:
            return address, False
        self.chain.transact(registry.createDataset(*args), sender)
        return address, True

    def dataset(self, address: str) -> DatasetRecord:
        raw = self._view(
            self.dataset_registry.functions.dataset(_address(address)), f"dataset {address}"
        )
        return DatasetRecord(_address(address), *raw)

    def register_workerpool(self, sender: LocalAccount, description: str) -> tuple[str, bool]:
        """Registers a workerpool owned by `sender`; (its address, True if created now)."""
        registry = self.workerpool_registry.functions
        address = str(registry.predictWorkerpool(sender.address, description).call())
        if self.workerpool_owner(address) != ZERO_ADDRESS:
            return address, False
        self.chain.transact(registry.createWorkerpool(sender.address, description), sender)
        return address, True

    def workerpool(self, address: str) -> WorkerpoolRecord:
        raw = self._view(
            self.workerpool_registry.functions.workerpool(_address(address)),
            f"workerpool {address}",
        )
        return WorkerpoolRecord(_address(address), *raw)

    def consumed(self, order_hash: bytes) -> int:
        """How much of an order's volume deals have used (its whole volume once cancelled)."""
        return int(self.market.functions.viewConsumed(order_hash).call())

    @staticmethod
    def _view(call: ContractFunction, what: str) -> tuple[Any, ...]:
        try:
            return tuple(call.call())
        except ContractLogicError as error:
            reason = revert_reason(error)
            if reason.startswith("registry: unknown"):
                raise ContractRevert(reason, f"no {what} is registered on this chain") from None
            raise ContractRevert(reason) from None

    def _need_rlc(self, address: str, amount: int, action: str) -> None:
        held = self.rlc_balance(address)
        if held < amount:
            raise InsufficientFunds(
                f"{address} holds {format_rlc(held)} RLC in its wallet and cannot {action} "
                f"{format_rlc(amount)}: get RLC first (`nuage wallet send-rlc` from a funded "
                "account; on the devnet every role account starts with RLC)"
            )


def _address(address: str) -> str:
    return str(Web3.to_checksum_address(address))
