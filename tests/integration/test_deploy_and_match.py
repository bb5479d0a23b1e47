"""The protocol deployed on a real chain: deposit, register, match, refuse."""

import pytest
from eth_account import Account
from eth_utils import keccak
from web3.logs import DISCARD

from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.exceptions import ContractRevert
from nuage.protocol import (
    AppOrder,
    ChainFacts,
    DatasetOrder,
    Domain,
    RequestOrder,
    WorkerpoolOrder,
    WorkerpoolPolicy,
    check_match,
)
from nuage.protocol.deals import Deal

pytestmark = pytest.mark.integration
NRLC = 10**9


def role(name: str):
    return Account.from_key(keccak(text=f"nuage integration {name}"))


def test_deal_on_anvil_matches_the_python_verdict(chain: Chain):
    deployer, requester, app_owner, pool_owner = (
        role(n) for n in ("deployer", "requester", "app_owner", "pool_owner")
    )
    for account in (deployer, requester, app_owner, pool_owner):
        chain.fund_eth(account.address, 10**18)
    deployment = deploy_protocol(chain, deployer)
    assert deployment.chain_id == chain.chain_id
    rlc = chain.contract("RLC", deployment.rlc)
    hub = chain.contract("Hub", deployment.hub)
    market = chain.contract("Market", deployment.market)
    apps = chain.contract("AppRegistry", deployment.app_registry)
    pools = chain.contract("WorkerpoolRegistry", deployment.workerpool_registry)

    for account in (requester, pool_owner):
        chain.transact(rlc.functions.transfer(account.address, 100 * NRLC), deployer)
        chain.transact(rlc.functions.approveAndCall(hub.address, 100 * NRLC, b""), account)
    assert hub.functions.balanceOf(requester.address).call() == 100 * NRLC

    checksum = keccak(text="factorial")
    chain.transact(
        apps.functions.createApp(app_owner.address, "factorial", 0, b"", checksum, b""), app_owner
    )
    app = apps.functions.predictApp(app_owner.address, "factorial", 0, b"", checksum, b"").call()
    chain.transact(pools.functions.createWorkerpool(pool_owner.address, "pool"), pool_owner)
    pool = pools.functions.predictWorkerpool(pool_owner.address, "pool").call()

    domain = Domain(chain_id=chain.chain_id, verifying_contract=market.address)
    orders = (
        AppOrder(app=app, appprice=2 * NRLC).signed(app_owner.key, domain),
        DatasetOrder.none(),
        WorkerpoolOrder(workerpool=pool, workerpoolprice=3 * NRLC).signed(pool_owner.key, domain),
        RequestOrder(
            app=app, requester=requester.address, appmaxprice=2 * NRLC, workerpoolmaxprice=3 * NRLC
        ).signed(requester.key, domain),
    )
    facts = ChainFacts(
        domain=domain,
        app_owners={app: app_owner.address},
        workerpools={pool: WorkerpoolPolicy(pool_owner.address)},
        free_balances={requester.address: 100 * NRLC, pool_owner.address: 100 * NRLC},
    )
    verdict = check_match(*orders, facts)
    assert verdict.ok

    receipt = chain.transact(
        market.functions.matchOrders(*(o.as_tuple() for o in orders)), requester
    )
    matched = market.events.OrdersMatched().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert matched["deal_id"] == verdict.deal_id
    created = market.events.DealCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]
    deal = Deal.from_tuple(created["deal"])
    assert (deal.app, deal.workerpool, deal.requester) == (app, pool, requester.address)
    assert hub.functions.viewDeal(verdict.deal_id).call() == deal.commitment()
    assert hub.functions.frozenOf(requester.address).call() == verdict.cost == 5 * NRLC
    assert hub.functions.frozenOf(pool_owner.address).call() == verdict.stake

    with pytest.raises(ContractRevert) as refused:
        chain.transact(market.functions.matchOrders(*(o.as_tuple() for o in orders)), requester)
    assert refused.value.reason == "market: app order consumed"
