import boa
import pytest

from tests.contracts.erc721._helpers import events, token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor, Protocol

DATA = [pytest.param(None, id="without-data"), pytest.param(b"\x00deal 42", id="with-data")]


def _safe_transfer(registry: Registry, owner: str, receiver: str, asset: str, data) -> None:
    if data is None:
        registry.contract.safeTransferFrom(owner, receiver, token_id(asset))
    else:
        registry.contract.safeTransferFrom(owner, receiver, token_id(asset), data)


@pytest.mark.parametrize("data", DATA)
def test_safe_transfer_to_an_account(
    registry: Registry, asset: str, asset_owner: Actor, buyer: Actor, data
):
    with boa.env.prank(asset_owner.address):
        _safe_transfer(registry, asset_owner.address, buyer.address, asset, data)
    [log] = events(registry.contract, "Transfer")
    assert (log.sender, log.receiver) == (asset_owner.address, buyer.address)
    assert registry.contract.ownerOf(token_id(asset)) == buyer.address
    assert registry.contract.balanceOf(buyer.address) == 1


@pytest.mark.parametrize("data", DATA)
def test_safe_transfer_to_an_accepting_contract(
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    operator: Actor,
    receiver_sources: dict,
    data,
):
    receiver = receiver_sources["accepting"].deploy()
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
    with boa.env.prank(operator.address):
        _safe_transfer(registry, asset_owner.address, receiver.address, asset, data)
    assert registry.contract.ownerOf(token_id(asset)) == receiver.address
    assert receiver.operator() == operator.address
    assert receiver.owner() == asset_owner.address
    assert receiver.token_id() == token_id(asset)
    assert receiver.data() == (data or b"")


@pytest.mark.parametrize("data", DATA)
def test_safe_transfer_to_a_contract_answering_wrong_is_refused(
    protocol: Protocol,
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    receiver_sources: dict,
    data,
):
    receiver = receiver_sources["wrong_answer"].deploy()
    root = protocol.state_root()
    with (
        boa.env.prank(asset_owner.address),
        boa.reverts("registry: receiver refused the asset"),
    ):
        _safe_transfer(registry, asset_owner.address, receiver.address, asset, data)
    assert protocol.state_root() == root
    assert registry.contract.ownerOf(token_id(asset)) == asset_owner.address


@pytest.mark.parametrize("data", DATA)
def test_safe_transfer_to_a_contract_without_the_hook_reverts(
    protocol: Protocol,
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    receiver_sources: dict,
    data,
):
    unaware = receiver_sources["unaware"].deploy()
    root = protocol.state_root()
    with boa.env.prank(asset_owner.address), boa.reverts():  # the hook call itself fails
        _safe_transfer(registry, asset_owner.address, unaware.address, asset, data)
    assert protocol.state_root() == root
    assert registry.contract.ownerOf(token_id(asset)) == asset_owner.address


def test_safe_transfer_checks_the_caller_like_transfer_from(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.safeTransferFrom(asset_owner.address, attacker.address, token_id(asset))
    assert protocol.state_root() == root
