"""Hub.authorizationHash: the EIP-712 digest a pool owner signs, as the client computes it."""

from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.poco import authorization_digest

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())
tasks = st.binary(min_size=32, max_size=32)


def test_digest_without_enclave(protocol, worker):
    task = keccak(text="task")

    assert protocol.hub.authorizationHash(worker.address, task, ZERO_ADDRESS) == (
        authorization_digest(protocol.hub_domain, worker.address, task)
    )


def test_digest_with_enclave(protocol, worker):
    task = keccak(text="task")
    enclave = "0x" + "ee" * 20

    digest = protocol.hub.authorizationHash(worker.address, task, enclave)

    assert digest == authorization_digest(protocol.hub_domain, worker.address, task, enclave)
    assert digest != authorization_digest(protocol.hub_domain, worker.address, task)


def test_digest_is_in_the_hub_domain_not_the_market_domain(protocol, worker):
    """An order signature (market domain) can never double as an authorization."""
    task = keccak(text="task")

    assert protocol.hub.authorizationHash(worker.address, task, ZERO_ADDRESS) != (
        authorization_digest(protocol.domain, worker.address, task)
    )


@given(worker=addresses, task=tasks, enclave=addresses)
def test_digest_matches_the_client_for_any_input(protocol, worker, task, enclave):
    assert protocol.hub.authorizationHash(worker, task, enclave) == authorization_digest(
        protocol.hub_domain, worker, task, enclave
    )
