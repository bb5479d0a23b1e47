"""`nuage demo`: the protocol at work on a throwaway local chain.

Today it shows the protocol on chain: anvil starts, the contracts deploy,
an app owner and a pool owner register their assets and sign offers, a
requester signs a request, the orders are checked off chain (the same checks
as the market) and matched into a deal, with the money locked in escrow. A
worker authorised by the pool then hands in each task's result in one
transaction (trust 1) and everyone is paid. The result is computed in this
process for now; sandboxed workers and their scheduler arrive later.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table
from web3.logs import DISCARD

from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
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
from nuage.protocol.orders import ZERO_ADDRESS
from nuage.protocol.poco import TaskStatus, sign_authorization

__all__ = ["DEMO_SUMMARY", "run_demo"]

DEMO_SUMMARY = (
    "This demo deploys the nuage contracts on a throwaway local anvil chain, registers the "
    "factorial app and a workerpool, signs orders, matches them into a 3-task deal, then a "
    "worker hands in each result on chain and everyone is paid. Sandboxed workers and the "
    "pool's scheduler arrive with later issues; here the result is computed in-process."
)
NRLC = 10**9


def _role(name: str) -> LocalAccount:
    return Account.from_key(keccak(text=f"nuage demo {name}"))


def _rlc(amount: int) -> str:
    return f"{amount / NRLC:g} RLC"


def deal_params(created: Any) -> str:
    return str(created["params"])


def run_demo(console: Console) -> int:
    """Runs the demo, printing to `console`; returns the process exit status."""
    console.print(DEMO_SUMMARY, highlight=False)
    started = time.monotonic()
    deployer, requester, app_owner, pool_owner = (
        _role(n) for n in ("deployer", "requester", "app_owner", "pool_owner")
    )
    with Anvil() as node, console.status("starting…") as status:
        chain = Chain(node.url)
        for account in (deployer, requester, app_owner, pool_owner):
            chain.fund_eth(account.address, 10 * 10**18)
        console.print(f"[green]✓[/] anvil on {node.url} (chain id {chain.chain_id})")

        status.update("deploying RLC, the registries and the hub…")
        deployment = deploy_protocol(chain, deployer)
        rlc = chain.contract("RLC", deployment.rlc)
        hub = chain.contract("Hub", deployment.hub)
        market = chain.contract("Market", deployment.market)
        apps = chain.contract("AppRegistry", deployment.app_registry)
        pools = chain.contract("WorkerpoolRegistry", deployment.workerpool_registry)
        console.print(f"[green]✓[/] hub deployed at {hub.address}")

        status.update("registering the factorial app and a workerpool…")
        checksum = keccak(text="factorial bundle")
        created = chain.transact(
            apps.functions.createApp(app_owner.address, "factorial", 0, b"", checksum, b""),
            app_owner,
        )
        app = apps.functions.predictApp(
            app_owner.address, "factorial", 0, b"", checksum, b""
        ).call()
        chain.transact(
            pools.functions.createWorkerpool(pool_owner.address, "demo pool"), pool_owner
        )
        pool = pools.functions.predictWorkerpool(pool_owner.address, "demo pool").call()
        console.print(
            f"[green]✓[/] app 'factorial' {app} ({created['gasUsed']:,} gas); workerpool {pool}"
        )

        status.update("depositing RLC into the hub…")
        for account in (requester, pool_owner):
            chain.transact(rlc.functions.transfer(account.address, 50 * NRLC), deployer)
            chain.transact(rlc.functions.approveAndCall(hub.address, 50 * NRLC, b""), account)
        console.print("[green]✓[/] requester and pool owner deposited 50 RLC each (approveAndCall)")

        status.update("signing orders…")
        domain = Domain(chain_id=chain.chain_id, verifying_contract=market.address)
        orders = (
            AppOrder(app=app, appprice=1 * NRLC, volume=10).signed(app_owner.key, domain),
            DatasetOrder.none(),
            WorkerpoolOrder(workerpool=pool, workerpoolprice=2 * NRLC, volume=10, trust=1).signed(
                pool_owner.key, domain
            ),
            RequestOrder(
                app=app,
                requester=requester.address,
                appmaxprice=1 * NRLC,
                workerpoolmaxprice=2 * NRLC,
                volume=3,
                trust=1,
                params='{"iexec_args": "10"}',
            ).signed(requester.key, domain),
        )
        facts = ChainFacts(
            domain=domain,
            category_count=market.functions.countCategory().call(),
            app_owners={app: app_owner.address},
            workerpools={pool: WorkerpoolPolicy(pool_owner.address)},
            free_balances={
                a.address: hub.functions.balanceOf(a.address).call()
                for a in (requester, pool_owner)
            },
        )
        verdict = check_match(*orders, facts)
        if not verdict.ok:
            console.print(f"[red]✗[/] the orders do not match: {', '.join(verdict.reasons)}")
            return 1
        console.print(
            "[green]✓[/] app, workerpool and request orders signed (EIP-712); checks pass off chain"
        )

        status.update("matching on chain…")
        receipt = chain.transact(
            market.functions.matchOrders(*(o.as_tuple() for o in orders)), requester
        )
        created = market.events.DealCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        deal = Deal.from_tuple(created["deal"])
        assert hub.functions.viewDeal(verdict.deal_id).call() == deal.commitment()
        console.print(
            f"[green]✓[/] matchOrders: deal {verdict.deal_id.hex()} ({receipt['gasUsed']:,} gas)"
        )

        status.update("computing and handing in results (one transaction per task, trust 1)…")
        worker = _role("worker")
        chain.fund_eth(worker.address, 10 * 10**18)
        hub_domain = Domain(chain_id=chain.chain_id, verifying_contract=hub.address)
        output = str(math.factorial(int(json.loads(deal_params(created))["iexec_args"]))).encode()
        digest = hashlib.sha256(output).digest()
        for task, index in zip(
            deal.task_ids(verdict.deal_id),
            range(deal.bot_first, deal.bot_first + deal.bot_size),
            strict=True,
        ):
            authorization = sign_authorization(pool_owner.key, hub_domain, worker.address, task)
            receipt = chain.transact(
                hub.functions.contributeAndFinalize(
                    deal.as_tuple(),
                    verdict.deal_id,
                    index,
                    digest,
                    digest,
                    b"",
                    ZERO_ADDRESS,
                    b"",
                    authorization,
                ),
                worker,
            )
            state = hub.functions.viewTask(task).call()
            console.print(
                f"[green]✓[/] task {index}: {TaskStatus.NAMES[state[0]]}, result {output.decode()} "
                f"({receipt['gasUsed']:,} gas)"
            )
        balances = {
            name: hub.functions.balanceOf(account.address).call()
            for name, account in (
                ("app owner", app_owner),
                ("pool owner", pool_owner),
                ("worker", worker),
            )
        }

    table = Table(title="The deal, as the market published it", show_header=False)
    fields = [
        ("app", f"{deal.app} (owner {deal.app_owner}), {_rlc(deal.app_price)} per task"),
        (
            "workerpool",
            f"{deal.workerpool} (owner {deal.workerpool_owner}), "
            f"{_rlc(deal.workerpool_price)} per task",
        ),
        ("requester", deal.requester),
        (
            "tasks",
            f"{deal.bot_size} (indices {deal.bot_first}..{deal.bot_first + deal.bot_size - 1}), "
            f"category {deal.category} (T = {deal.time_ref} s), trust {deal.trust}",
        ),
        ("params", deal_params(created)),
        (
            "locked at match",
            f"{_rlc(verdict.cost)} from the requester, "
            f"{_rlc(verdict.stake)} stake from the pool owner",
        ),
        ("paid", ", ".join(f"{name} {_rlc(amount)}" for name, amount in balances.items())),
    ]
    for name, value in fields:
        table.add_row(name, str(value))
    console.print(table)
    console.print(
        f"Done in {time.monotonic() - started:.1f} s. The result was computed in this process; "
        "sandboxed workers and their scheduler arrive with a later issue.",
        highlight=False,
    )
    return 0
