import boa
from eth_abi import encode
from eth_utils import keccak

from nuage.protocol import AppOrder, Domain
from tests.contracts.harness import Protocol

DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def test_domain_separator_is_nuage_v1_on_this_chain_and_market(protocol):
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=DOMAIN_TYPE),
                keccak(text="nuage"),
                keccak(text="1"),
                boa.env.evm.patch.chain_id,
                protocol.market.address,
            ],
        )
    )

    assert protocol.market.domainSeparator() == expected
    assert protocol.market.domainSeparator() == protocol.domain.separator


def test_each_market_has_its_own_domain(protocol, deployer):
    other = Protocol.deploy(deployer)

    assert other.market.domainSeparator() != protocol.market.domainSeparator()
    assert other.market.domainSeparator() == other.domain.separator


def test_signatures_do_not_replay_across_a_chain_fork(protocol, app_owner):
    """After a fork the chain id changes: the separator follows, old signatures stop counting."""
    order = AppOrder(app=protocol.new_app(app_owner), salt=b"\x01" * 32)
    signed = order.signed(app_owner.key, protocol.domain)
    fork_chain_id = boa.env.evm.patch.chain_id + 1

    boa.env.evm.patch.chain_id = fork_chain_id

    fork = Domain(chain_id=fork_chain_id, verifying_contract=protocol.market.address)
    assert protocol.market.domainSeparator() == fork.separator
    assert protocol.market.appOrderHash(order.as_tuple()) == order.hash(fork)
    assert not protocol.market.verifySignature(app_owner.address, order.hash(fork), signed.sign)
