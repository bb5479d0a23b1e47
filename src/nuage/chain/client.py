"""Talking to an EVM node: deploy contracts, send transactions, read reverts.

Transactions are signed locally (keys never leave the process) and sent raw;
nonces are kept per sender under a lock so several threads may send at once.
A refusal becomes a `ContractRevert` carrying the contract's reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import Nonce, TxParams, TxReceipt

from nuage.chain.artifacts import Artifact, compile_all
from nuage.exceptions import ChainError, ContractRevert

__all__ = ["Chain", "Deployment", "deploy_protocol"]

GAS_MARGIN = 1.2  # estimates are exact on a quiet chain; the margin covers state moving under us
RLC_SUPPLY = 87_000_000 * 10**9  # nRLC


class Chain:
    """One JSON-RPC endpoint, with a nonce-safe transaction sender."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()
        self._artifacts: dict[str, Artifact] | None = None
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def artifacts(self) -> dict[str, Artifact]:
        if self._artifacts is None:
            self._artifacts = compile_all()
        return self._artifacts

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=self.artifacts[name].abi
        )

    def deploy(self, name: str, sender: LocalAccount, *args: Any) -> tuple[Contract, TxReceipt]:
        artifact = self.artifacts[name]
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(factory.constructor(*args), sender)
        return self.contract(name, str(receipt["contractAddress"])), receipt

    def transact(
        self, call: ContractFunction | ContractConstructor, sender: LocalAccount
    ) -> TxReceipt:
        """Estimate, sign, send and wait; a revert raises ContractRevert with its reason."""
        try:
            gas = call.estimate_gas({"from": sender.address})
        except ContractLogicError as error:
            raise ContractRevert(_reason(error)) from None
        with self._lock:
            nonce = self._nonces.get(sender.address)
            if nonce is None:
                nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
            params: TxParams = {
                "from": sender.address,
                "nonce": Nonce(nonce),
                "gas": int(gas * GAS_MARGIN),
                "chainId": self.chain_id,
            }
            tx = call.build_transaction(params)
            signed = sender.sign_transaction(cast(dict[str, Any], tx))
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            self._nonces[sender.address] = nonce + 1
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise ChainError(f"transaction {tx_hash.hex()} failed after its estimate passed")
        return receipt

    def fund_eth(self, address: str, wei: int) -> None:
        """Devnet only: set an account's ETH balance (anvil_setBalance)."""
        self.w3.provider.make_request("anvil_setBalance", [address, hex(wei)])  # type: ignore[arg-type]


def _reason(error: ContractLogicError) -> str:
    message = str(error.message or error)
    return (
        message.removeprefix("execution reverted: ").removeprefix("execution reverted")
        or "no reason"
    )


@dataclass(frozen=True)
class Deployment:
    """Where the protocol lives on one chain."""

    chain_id: int
    block: int
    rlc: str
    app_registry: str
    dataset_registry: str
    workerpool_registry: str
    hub: str
    market: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def deploy_protocol(chain: Chain, deployer: LocalAccount, supply: int = RLC_SUPPLY) -> Deployment:
    """Deploy RLC, the registries, the hub and the market, and bind the market to the hub.

    The deployer holds all RLC and owns the hub and the market.
    """
    rlc, first = chain.deploy("RLC", deployer, supply)
    apps, _ = chain.deploy("AppRegistry", deployer)
    datasets, _ = chain.deploy("DatasetRegistry", deployer)
    workerpools, _ = chain.deploy("WorkerpoolRegistry", deployer)
    hub, _ = chain.deploy("Hub", deployer, rlc.address)
    market, _ = chain.deploy(
        "Market", deployer, hub.address, apps.address, datasets.address, workerpools.address
    )
    chain.transact(hub.functions.bindMarket(market.address), deployer)
    return Deployment(
        chain_id=chain.chain_id,
        block=int(first["blockNumber"]),
        rlc=rlc.address,
        app_registry=apps.address,
        dataset_registry=datasets.address,
        workerpool_registry=workerpools.address,
        hub=hub.address,
        market=market.address,
    )
