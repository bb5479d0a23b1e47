"""The transaction sender against a real anvil: concurrency, outages, and the errors people meet."""

import threading
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from nuage.chain.anvil import Anvil
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment, deploy_protocol
from nuage.exceptions import (
    ChainUnreachable,
    ContractRevert,
    InsufficientFunds,
    NotDeployed,
    WrongChain,
)
from tests.integration.proxy import TcpProxy

pytestmark = pytest.mark.integration

DEPLOYER = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
RLC = 10**9


@pytest.fixture
def contracts(chain: Chain, tmp_path: Path) -> Contracts:
    deployment = deploy_protocol(chain, DEPLOYER, record=tmp_path / "31337.json")
    return Contracts.connect(chain, deployment)


def _funded(contracts: Contracts, rlc: int = 100) -> LocalAccount:
    account = Account.create()
    contracts.chain.fund_eth(account.address, 10**18)
    contracts.transfer_rlc(DEPLOYER, account.address, rlc * RLC)
    return account


def test_deploy_writes_the_record_of_what_is_on_chain(chain: Chain, tmp_path: Path) -> None:
    record = tmp_path / "deployments" / "31337.json"
    deployment = deploy_protocol(chain, DEPLOYER, record=record)
    assert Deployment.load(record) == deployment
    assert deployment.chain_id == 31337
    for address in (deployment.rlc, deployment.hub, deployment.market, deployment.app_registry):
        assert chain.has_code(address)
    assert Contracts.connect(chain, deployment).hub.functions.market().call() == deployment.market


def test_deposit_and_withdraw_move_rlc_between_wallet_and_hub(contracts: Contracts) -> None:
    requester = _funded(contracts, rlc=100)
    contracts.deposit(requester, 10 * RLC)
    assert contracts.hub_account(requester.address).free == 10 * RLC
    assert contracts.rlc_balance(requester.address) == 90 * RLC
    contracts.withdraw(requester, 4 * RLC)
    assert contracts.hub_account(requester.address).free == 6 * RLC
    assert contracts.rlc_balance(requester.address) == 94 * RLC


def test_a_hundred_transactions_from_four_threads_have_no_nonce_error(
    contracts: Contracts,
) -> None:
    requester = _funded(contracts, rlc=1_000)
    errors: list[BaseException] = []

    def send(count: int) -> None:
        try:
            for _ in range(count):
                contracts.deposit(requester, RLC)
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=send, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert contracts.hub_account(requester.address).free == 100 * RLC
    assert contracts.chain.w3.eth.get_transaction_count(requester.address) == 100


def test_an_rpc_outage_gives_a_clear_error_then_recovery(anvil: Anvil, tmp_path: Path) -> None:
    with TcpProxy.to(anvil.url) as proxy:
        chain = Chain(proxy.url, retries=2, backoff=0.05, timeout=5)
        deployment = deploy_protocol(chain, DEPLOYER)
        contracts = Contracts.connect(chain, deployment)
        requester = _funded(contracts)
        contracts.deposit(requester, RLC)

        proxy.cut()
        with pytest.raises(ChainUnreachable, match=f"the chain at {proxy.url} does not answer"):
            contracts.deposit(requester, RLC)
        with pytest.raises(ChainUnreachable):
            contracts.hub_account(requester.address)

        proxy.restore()
        contracts.deposit(requester, RLC)  # the nonce was not burnt by the failed attempt
        assert contracts.hub_account(requester.address).free == 2 * RLC


def test_a_revert_carries_the_contracts_reason(contracts: Contracts) -> None:
    stranger = _funded(contracts)
    with pytest.raises(ContractRevert) as refused:
        contracts.chain.transact(contracts.hub.functions.bindMarket(stranger.address), stranger)
    assert refused.value.reason == "ownable: not the owner"


def test_a_sender_without_eth_is_told_to_get_some(contracts: Contracts) -> None:
    broke = Account.create()
    contracts.transfer_rlc(DEPLOYER, broke.address, RLC)
    with pytest.raises(InsufficientFunds, match="ETH"):
        contracts.deposit(broke, RLC)


def test_not_enough_rlc_is_refused_before_any_gas_is_spent(contracts: Contracts) -> None:
    requester = _funded(contracts, rlc=1)
    with pytest.raises(InsufficientFunds, match="holds 1 RLC in its wallet and cannot deposit 2"):
        contracts.deposit(requester, 2 * RLC)
    with pytest.raises(InsufficientFunds, match="0 RLC free in the hub"):
        contracts.withdraw(requester, RLC)
    assert contracts.chain.w3.eth.get_transaction_count(requester.address) == 0


def test_a_deployment_on_another_chain_is_refused(chain: Chain, contracts: Contracts) -> None:
    elsewhere = Deployment(**(contracts.deployment.as_dict() | {"chain_id": 1}))
    with pytest.raises(WrongChain, match="runs chain 31337, but the deployment is on chain 1"):
        Contracts.connect(chain, elsewhere)


def test_a_reset_chain_has_no_deployment(contracts: Contracts) -> None:
    with Anvil() as fresh, pytest.raises(NotDeployed, match="no nuage hub"):
        Contracts.connect(Chain(fresh.url), contracts.deployment)
