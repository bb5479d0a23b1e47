"""Talking to an EVM node: connect, deploy contracts, send transactions, read reverts.

Transactions are signed locally (keys never leave the process) and sent raw.
Nonces are kept per sender under a lock, so several threads may send at once.
Transient RPC failures (connection refused or reset, timeouts, HTTP 5xx) are
retried with backoff; resending a signed transaction is safe because the node
recognises it by hash. What still fails becomes an error a person can act on:
`ChainUnreachable` when the node does not answer, `InsufficientFunds` when the
sender cannot pay for gas, `ContractRevert` with the contract's reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from decimal import Decimal
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration
from web3.types import Nonce, RPCEndpoint, RPCResponse, TxParams, TxReceipt, Wei

from nuage.chain.artifacts import Artifact, compile_all
from nuage.exceptions import ChainError, ChainUnreachable, ContractRevert, InsufficientFunds

__all__ = ["Chain", "format_eth", "revert_reason"]

log = logging.getLogger(__name__)

GAS_MARGIN = 1.2  # estimates are exact on a quiet chain; the margin covers state moving under us
FEES_TTL = 1.0  # seconds fee parameters are reused (max fee = 2 x base fee + tip covers a block)
FUNDS_TTL = 5.0  # seconds a balance read is trusted, less what was spent since
RECEIPT_TIMEOUT = 120.0  # seconds a sent transaction may take to be mined
_RETRIED_METHODS = [*REQUEST_RETRY_ALLOWLIST, "eth_sendRawTransaction"]  # resending is idempotent


class _Provider(HTTPProvider):
    """web3's HTTP provider, retrying transient failures, then raising ChainUnreachable."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except requests.RequestException as error:
            raise ChainUnreachable(
                f"the chain at {self.endpoint_uri} does not answer ({_cause(error)}): is the node "
                "running? On the devnet, `nuage devnet status` tells, `nuage devnet up` starts it"
            ) from None


def _cause(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return "connection refused or reset"


class Chain:
    """One JSON-RPC endpoint, with a nonce-safe, retrying transaction sender."""

    def __init__(
        self, url: str, *, timeout: float = 30.0, retries: int = 4, backoff: float = 0.25
    ) -> None:
        self.url = url
        provider = _Provider(
            url,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(requests.ConnectionError, requests.HTTPError, requests.Timeout),
                retries=max(1, retries),
                backoff_factor=backoff,
                method_allowlist=_RETRIED_METHODS,
            ),
        )
        self.w3 = Web3(provider)
        # it asks the node for the chain id before every call (we sign with ours: see chain_id)
        self.w3.middleware_onion.remove("validation")
        self._fees: tuple[float, int, int] | None = None  # read at, max fee, tip
        self._funds: dict[str, tuple[float, int]] = {}  # address: read at, balance left
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

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def has_code(self, address: str) -> bool:
        return len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def eth_balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

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
        self,
        call: ContractFunction | ContractConstructor,
        sender: LocalAccount,
        value: int = 0,
        *,
        gas_margin: float = GAS_MARGIN,
    ) -> TxReceipt:
        """Estimate, sign, send and wait for the receipt.

        A revert raises ContractRevert with its reason; a sender short of ETH raises
        InsufficientFunds; a node that stops answering raises ChainUnreachable. `gas_margin`
        multiplies the estimate: raise it for calls whose cost depends on transactions that may
        land first (unused gas is refunded).
        """
        base: TxParams = {"from": sender.address, "value": value}  # type: ignore[typeddict-item]
        try:
            gas = int(call.estimate_gas(base) * gas_margin)
        except ContractLogicError as error:
            raise ContractRevert(revert_reason(error)) from None
        # fees and the balance check need no nonce: only signing and sending hold the lock
        max_fee, tip = self._fee_parameters()
        tx = dict(
            call.build_transaction(
                {
                    **base,
                    "nonce": Nonce(0),
                    "gas": gas,
                    "chainId": self.chain_id,
                    "maxFeePerGas": Wei(max_fee),
                    "maxPriorityFeePerGas": Wei(tip),
                }
            )
        )
        self._check_gas_money(sender.address, gas * max_fee + value)
        with self._lock:
            nonce = self._nonces.get(sender.address)
            if nonce is None:
                nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
            signed = sender.sign_transaction(tx | {"nonce": nonce})
            try:
                self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as error:
                if not _already_sent(error):
                    self._nonces.pop(sender.address, None)  # resync from the node next time
                    raise self._send_error(sender.address, error) from None
            except ChainUnreachable:
                self._nonces.pop(sender.address, None)
                raise
            self._nonces[sender.address] = nonce + 1
        receipt = self._receipt(signed.hash)
        if receipt["status"] != 1:
            raise ChainError(
                f"transaction {signed.hash.to_0x_hex()} failed after its estimate passed: "
                "the state changed between the two; try again"
            )
        return receipt

    def _receipt(self, tx_hash: HexBytes) -> TxReceipt:
        """Polls for the receipt: at once, then at growing intervals (an automine chain answers
        within milliseconds, a chain with blocks every few seconds needs no tight loop)."""
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        delay = 0.002
        method = RPCEndpoint("eth_getTransactionReceipt")
        while True:  # asked raw (cheap while it is not there), then formatted once
            if self.w3.provider.make_request(method, [tx_hash.to_0x_hex()]).get("result"):
                with contextlib.suppress(TransactionNotFound):
                    return self.w3.eth.get_transaction_receipt(tx_hash)
            if time.monotonic() > deadline:
                raise ChainError(
                    f"transaction {tx_hash.to_0x_hex()} was not mined within "
                    f"{RECEIPT_TIMEOUT:.0f} s: is the node mining?"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def fund_eth(self, address: str, wei: int) -> None:
        """Devnet only: set an account's ETH balance (anvil_setBalance)."""
        self.w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [address, hex(wei)])

    def _fee_parameters(self) -> tuple[int, int]:
        """(max fee, tip) per gas as web3 would choose them, read at most every FEES_TTL s."""
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > FEES_TTL:
            tip = int(self.w3.eth.max_priority_fee)
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
            self._fees = (now, 2 * base_fee + tip, tip)
        return self._fees[1], self._fees[2]

    def _check_gas_money(self, address: str, needed: int) -> None:
        """Refuses before signing when `address` cannot pay `needed` wei; a balance read is
        reused for FUNDS_TTL s, less what the transactions sent since may cost."""
        now = time.monotonic()
        read_at, held = self._funds.get(address, (0.0, -1))
        if now - read_at > FUNDS_TTL or held < needed:
            read_at, held = now, self.eth_balance(address)
        self._funds[address] = (read_at, held - needed)
        if held < needed:
            raise InsufficientFunds(
                f"{address} holds {format_eth(held)} ETH and needs about {format_eth(needed)} "
                "to pay for gas: send it some ETH (on the devnet every role account is funded)"
            )

    def _send_error(self, address: str, error: Web3RPCError) -> ChainError | InsufficientFunds:
        message = str(error.message or error)
        if "insufficient funds" in message:
            return InsufficientFunds(f"{address} cannot pay for gas: {message}")
        return ChainError(f"the node refused the transaction from {address}: {message}")


def _already_sent(error: Web3RPCError) -> bool:
    """The node already holds this very transaction: a retried send that had arrived."""
    message = str(error.message or error).lower()
    return "already known" in message or "already imported" in message


def revert_reason(error: ContractLogicError) -> str:
    message = str(error.message or error)
    return (
        message.removeprefix("execution reverted: ").removeprefix("execution reverted")
        or "no reason"
    )


def format_eth(wei: int) -> str:
    """Wei as ETH, rounded to 6 decimals without trailing zeros ("0.000021"), for messages."""
    eth = (Decimal(wei) / 10**18).quantize(Decimal("0.000001")).normalize()
    return f"{eth:f}"
