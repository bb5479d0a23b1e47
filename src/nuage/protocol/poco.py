"""What workers and schedulers sign and compute for Proof-of-Contribution.

- A worker's vote is `result_hash(task, digest)`; `result_seal(worker, task,
  digest)` proves it knows the digest without showing it before consensus.
- The scheduler (the pool owner) authorises a worker for a task by signing
  the EIP-712 `Authorization(worker, taskId, enclaveChallenge)` in the hub's
  domain; an enclave signs `EnclaveResult(resultHash, resultSeal)`.
- A result's digest is keccak256(callback data) when the app produced some,
  else sha256 of its deterministic output.
"""

from __future__ import annotations

from eth_utils import keccak, to_canonical_address

from nuage.protocol.eip712 import Domain, digest, hash_struct, sign_digest

__all__ = [
    "AUTHORIZATION_TYPES",
    "ENCLAVE_RESULT_TYPES",
    "TaskStatus",
    "authorization_digest",
    "enclave_result_digest",
    "result_hash",
    "result_seal",
    "sign_authorization",
    "sign_enclave_result",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

AUTHORIZATION_TYPES = {
    "Authorization": [("worker", "address"), ("taskId", "bytes32"), ("enclaveChallenge", "address")]
}
ENCLAVE_RESULT_TYPES = {"EnclaveResult": [("resultHash", "bytes32"), ("resultSeal", "bytes32")]}


class TaskStatus:
    """The hub's task statuses (`viewTask(...).status`)."""

    UNSET = 0
    ACTIVE = 1
    REVEALING = 2
    COMPLETED = 3
    FAILED = 4
    NAMES = ("UNSET", "ACTIVE", "REVEALING", "COMPLETED", "FAILED")


def result_hash(task: bytes, result_digest: bytes) -> bytes:
    """A worker's vote: keccak256(task id || digest)."""
    return keccak(task + result_digest)


def result_seal(worker: str, task: bytes, result_digest: bytes) -> bytes:
    """keccak256(worker || task id || digest): binds the vote to its worker."""
    return keccak(to_canonical_address(worker) + task + result_digest)


def authorization_digest(
    domain: Domain, worker: str, task: bytes, enclave_challenge: str = ZERO_ADDRESS
) -> bytes:
    message = {"worker": worker, "taskId": task, "enclaveChallenge": enclave_challenge}
    return digest(domain, hash_struct("Authorization", AUTHORIZATION_TYPES, message))


def sign_authorization(
    private_key: bytes | str,
    domain: Domain,
    worker: str,
    task: bytes,
    enclave_challenge: str = ZERO_ADDRESS,
) -> bytes:
    """The scheduler's authorisation for `worker` to contribute to `task`."""
    return sign_digest(private_key, authorization_digest(domain, worker, task, enclave_challenge))


def enclave_result_digest(domain: Domain, vote: bytes, seal: bytes) -> bytes:
    message = {"resultHash": vote, "resultSeal": seal}
    return digest(domain, hash_struct("EnclaveResult", ENCLAVE_RESULT_TYPES, message))


def sign_enclave_result(
    private_key: bytes | str, domain: Domain, vote: bytes, seal: bytes
) -> bytes:
    """An enclave's signature over its result (TEE deals)."""
    return sign_digest(private_key, enclave_result_digest(domain, vote, seal))
