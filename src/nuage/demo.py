"""`nuage demo`: the protocol at work on a throwaway local chain.

Today it shows the marketplace on chain: anvil starts, the contracts deploy,
an app owner and a pool owner register their assets and sign offers, a
requester signs a request, the orders are checked off chain (the same checks
as the hub) and matched into a deal on chain, with the money locked in
escrow. Task execution (scheduler, workers, results) arrives with later issues.
"""

from __future__ import annotations

import time

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain, deploy_protocol
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

__all__ = ["DEMO_SUMMARY", "run_demo"]

DEMO_SUMMARY = (
    "This demo deploys the nuage contracts on a throwaway local anvil chain, registers an app "
    "and a workerpool, signs orders, matches them into a deal and prints the deal. "
    "The full network (scheduler, workers, results) arrives with later issues."
)
NRLC = 10**9


def _role(name: str) -> LocalAccount:
    return Account.from_key(keccak(text=f"nuage demo {name}"))


def _rlc(amount: int) -> str:
    return f"{amount / NRLC:g} RLC"


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
        domain = Domain(chain_id=chain.chain_id, verifying_contract=hub.address)
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
            category_count=hub.functions.countCategory().call(),
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
            hub.functions.matchOrders(*(o.as_tuple() for o in orders)), requester
        )
        deal = hub.functions.viewDeal(verdict.deal_id).call()
        console.print(
            f"[green]✓[/] matchOrders: deal {verdict.deal_id.hex()} ({receipt['gasUsed']:,} gas)"
        )

    table = Table(title="The deal, as the hub records it", show_header=False)
    fields = [
        ("app", f"{deal[0]} (owner {deal[1]}), {_rlc(deal[2])} per task"),
        ("workerpool", f"{deal[6]} (owner {deal[7]}), {_rlc(deal[8])} per task"),
        ("requester", deal[12]),
        (
            "tasks",
            f"{deal[18]} (indices {deal[17]}..{deal[17] + deal[18] - 1}), "
            f"category {deal[10]}, trust {deal[9]}",
        ),
        ("params", deal[15]),
        (
            "locked",
            f"{_rlc(verdict.cost)} from the requester, "
            f"{_rlc(verdict.stake)} stake from the pool owner",
        ),
        ("per-worker stake", _rlc(deal[19])),
    ]
    for name, value in fields:
        table.add_row(name, str(value))
    console.print(table)
    console.print(
        f"Done in {time.monotonic() - started:.1f} s. Next (later issues): the pool's scheduler "
        "sees the deal, workers compute the tasks and Proof-of-Contribution pays them.",
        highlight=False,
    )
    return 0
