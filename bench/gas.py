"""Gas of every state-changing contract function and of the key scenarios.

Runs on a real anvil chain and reads `gasUsed` from each receipt, so figures
include the 21,000 base cost and calldata, as iExec's published averages do.
Writes bench/results/gas.json and prints it:

    {"functions": {"<Contract>.<function>": {"min", "max", "avg", "calls"}},
     "scenarios": {name: gas}, "reference": {...}, "meta": {...}}

Run: `make gas` (or `python -m bench.gas [--out PATH]`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import vyper
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from nuage.chain.anvil import Anvil, find_anvil
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.protocol import AppOrder, DatasetOrder, Domain, Operation, RequestOrder, WorkerpoolOrder
from nuage.protocol.deals import Deal
from nuage.protocol.poco import result_hash, result_seal, sign_authorization

ZERO = "0x0000000000000000000000000000000000000000"

RESULTS = Path(__file__).parent / "results" / "gas.json"
NRLC = 10**9

# iExec PoCo averages (Solidity 0.8.21), SPEC §3: the bar to pass
IEXEC = {
    "matchOrders": 760_843,
    "initialize": 225_506,
    "contribute": 346_973,
    "reveal": 78_544,
    "finalize": 403_856,
    "contributeAndFinalize": 642_656,
    "claim": 181_535,
    "matchOrdersBoost": 487_205,
    "pushResultBoost": 242_823,
    "create_asset_low": 550_000,
    "create_asset_high": 625_000,
}


class Recorder:
    """Sends transactions and files each receipt's gas under Contract.function."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.names: dict[str, str] = {}
        self.functions: dict[str, list[int]] = defaultdict(list)

    def send(self, contract: Any, function: str, sender: LocalAccount, *args: Any) -> TxReceipt:
        receipt = self.chain.transact(getattr(contract.functions, function)(*args), sender)
        self.functions[f"{self.names[contract.address]}.{function}"].append(int(receipt["gasUsed"]))
        return receipt

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            name: {"min": min(g), "max": max(g), "avg": round(statistics.fmean(g)), "calls": len(g)}
            for name, g in sorted(self.functions.items())
        }


def actor(role: str) -> LocalAccount:
    return Account.from_key(keccak(text=f"nuage bench {role}"))


def run(chain: Chain) -> dict[str, Any]:
    deployer, requester, app_owner, dataset_owner, pool_owner, relayer = (
        actor(r)
        for r in ("deployer", "requester", "app_owner", "dataset_owner", "pool_owner", "relayer")
    )
    for account in (deployer, requester, app_owner, dataset_owner, pool_owner, relayer):
        chain.fund_eth(account.address, 100 * 10**18)
    deployment = deploy_protocol(chain, deployer)
    rlc = chain.contract("RLC", deployment.rlc)
    apps = chain.contract("AppRegistry", deployment.app_registry)
    datasets = chain.contract("DatasetRegistry", deployment.dataset_registry)
    pools = chain.contract("WorkerpoolRegistry", deployment.workerpool_registry)
    hub = chain.contract("Hub", deployment.hub)
    market = chain.contract("Market", deployment.market)
    rec = Recorder(chain)
    for contract, name in (
        (rlc, "RLC"),
        (apps, "AppRegistry"),
        (datasets, "DatasetRegistry"),
        (pools, "WorkerpoolRegistry"),
        (hub, "Hub"),
        (market, "Market"),
    ):
        rec.names[contract.address] = name
    domain = Domain(chain_id=chain.chain_id, verifying_contract=market.address)
    hub_domain = Domain(chain_id=chain.chain_id, verifying_contract=hub.address)
    scenarios: dict[str, int] = {}

    def gas(receipt: TxReceipt) -> int:
        return int(receipt["gasUsed"])

    # -- RLC -------------------------------------------------------------------
    for account in (requester, app_owner, dataset_owner, pool_owner, relayer):
        rec.send(rlc, "transfer", deployer, account.address, 1_000_000 * NRLC)
    rec.send(rlc, "approve", requester, relayer.address, 10 * NRLC)
    rec.send(rlc, "increaseAllowance", requester, relayer.address, 5 * NRLC)
    rec.send(rlc, "decreaseAllowance", requester, relayer.address, 5 * NRLC)
    rec.send(rlc, "transferFrom", relayer, requester.address, relayer.address, 1 * NRLC)

    # -- registries ------------------------------------------------------------
    checksum = keccak(text="factorial bundle")
    scenarios["create_app"] = gas(
        rec.send(
            apps, "createApp", app_owner, app_owner.address, "factorial", 0, b"", checksum, b""
        )
    )
    app = apps.functions.predictApp(app_owner.address, "factorial", 0, b"", checksum, b"").call()
    scenarios["create_app_docker"] = gas(
        rec.send(
            apps,
            "createApp",
            app_owner,
            app_owner.address,
            "sudoku",
            1,
            b"docker.io/nuage/sudoku:1.0.0",
            keccak(text="sudoku image"),
            b"",
        )
    )
    scenarios["create_dataset"] = gas(
        rec.send(
            datasets,
            "createDataset",
            dataset_owner,
            dataset_owner.address,
            "mnist",
            b"",
            keccak(text="mnist"),
        )
    )
    dataset = datasets.functions.predictDataset(
        dataset_owner.address, "mnist", b"", keccak(text="mnist")
    ).call()
    scenarios["create_workerpool"] = gas(
        rec.send(pools, "createWorkerpool", pool_owner, pool_owner.address, "nuage devnet pool")
    )
    pool = pools.functions.predictWorkerpool(pool_owner.address, "nuage devnet pool").call()
    rec.send(pools, "setPolicy", pool_owner, pool, 30, 1)
    spare = apps.functions.predictApp(
        app_owner.address,
        "sudoku",
        1,
        b"docker.io/nuage/sudoku:1.0.0",
        keccak(text="sudoku image"),
        b"",
    ).call()
    spare_id = int(spare, 16)
    rec.send(apps, "approve", app_owner, relayer.address, spare_id)
    rec.send(apps, "setApprovalForAll", app_owner, relayer.address, True)
    rec.send(apps, "transferFrom", relayer, app_owner.address, requester.address, spare_id)
    rec.send(apps, "safeTransferFrom", requester, requester.address, app_owner.address, spare_id)

    # -- escrow ----------------------------------------------------------------
    rec.send(rlc, "approve", requester, hub.address, 10_000 * NRLC)
    scenarios["deposit"] = gas(rec.send(hub, "deposit", requester, 5_000 * NRLC))
    scenarios["deposit_approve_and_call"] = gas(
        rec.send(rlc, "approveAndCall", pool_owner, hub.address, 5_000 * NRLC, b"")
    )
    rec.send(hub, "depositFor", requester, 1_000 * NRLC, relayer.address)
    rec.send(hub, "withdraw", relayer, 10 * NRLC)
    rec.send(hub, "withdrawTo", relayer, 10 * NRLC, requester.address)

    # -- orders and matching ---------------------------------------------------
    def salt() -> bytes:
        salt.n += 1  # type: ignore[attr-defined]
        return salt.n.to_bytes(32, "big")  # type: ignore[attr-defined]

    salt.n = 0  # type: ignore[attr-defined]
    app_order = AppOrder(app=app, appprice=NRLC, volume=1000, salt=salt()).signed(
        app_owner.key, domain
    )
    pool_order = WorkerpoolOrder(
        workerpool=pool, workerpoolprice=NRLC, volume=1000, trust=1, salt=salt()
    ).signed(pool_owner.key, domain)

    def request(**fields: Any) -> RequestOrder:
        base = dict(
            app=app,
            requester=requester.address,
            appmaxprice=NRLC,
            workerpoolmaxprice=NRLC,
            trust=1,
            params='{"iexec_args": "10"}',
            salt=salt(),
        )
        return RequestOrder(**{**base, **fields}).signed(requester.key, domain)

    none = DatasetOrder.none()

    def match(a: AppOrder, d: DatasetOrder, w: WorkerpoolOrder, r: RequestOrder) -> TxReceipt:
        args = (a.as_tuple(), d.as_tuple(), w.as_tuple(), r.as_tuple())
        return rec.send(market, "matchOrders", requester, *args)

    scenarios["match_first"] = gas(match(app_order, none, pool_order, request()))
    scenarios["match_fresh_request"] = gas(match(app_order, none, pool_order, request()))
    scenarios["match_fresh_request_volume100"] = gas(
        match(app_order, none, pool_order, request(volume=100))
    )
    dataset_order = DatasetOrder(
        dataset=dataset, datasetprice=NRLC, volume=1000, salt=salt()
    ).signed(dataset_owner.key, domain)
    match(app_order, dataset_order, pool_order, request(dataset=dataset, datasetmaxprice=NRLC))
    scenarios["match_fresh_request_with_dataset"] = gas(
        match(app_order, dataset_order, pool_order, request(dataset=dataset, datasetmaxprice=NRLC))
    )
    compact = request()
    compact = RequestOrder(**{**compact.message(), "sign": b""}).signed(
        requester.key, domain, compact=True
    )
    scenarios["match_fresh_request_compact_signature"] = gas(
        match(app_order, none, pool_order, compact)
    )

    presigned = request()
    rec.send(
        market, "manageRequestOrder", requester, presigned.as_tuple(), int(Operation.SIGN), b""
    )
    cancelled = request()
    relayed = cancelled.sign_operation(Operation.CLOSE, requester.key, domain)
    rec.send(
        market, "manageRequestOrder", relayer, cancelled.as_tuple(), int(Operation.CLOSE), relayed
    )
    rec.send(
        market,
        "manageAppOrder",
        app_owner,
        AppOrder(app=app, salt=salt()).as_tuple(),
        int(Operation.CLOSE),
        b"",
    )
    rec.send(
        market,
        "manageDatasetOrder",
        dataset_owner,
        DatasetOrder(dataset=dataset, volume=1, salt=salt()).as_tuple(),
        int(Operation.SIGN),
        b"",
    )
    rec.send(
        market,
        "manageWorkerpoolOrder",
        pool_owner,
        WorkerpoolOrder(workerpool=pool, salt=salt()).as_tuple(),
        int(Operation.SIGN),
        b"",
    )
    scenarios["match_presigned_request"] = gas(
        match(app_order, none, pool_order, RequestOrder(**{**presigned.message(), "sign": b""}))
    )

    rec.send(market, "createCategory", deployer, "GPU-S", "small GPU tasks", 1200)
    rec.send(market, "transferOwnership", deployer, relayer.address)
    rec.send(market, "transferOwnership", relayer, deployer.address)
    rec.send(hub, "transferOwnership", deployer, relayer.address)
    rec.send(hub, "transferOwnership", relayer, deployer.address)
    spare_hub, _ = chain.deploy("Hub", deployer, rlc.address)  # bindMarket happens once per hub
    rec.names[spare_hub.address] = "Hub"
    rec.send(spare_hub, "bindMarket", deployer, market.address)

    # -- PoCo ------------------------------------------------------------------
    workers = sorted((actor(f"worker {i}") for i in range(7)), key=lambda a: int(a.address, 16))
    for w in workers:
        chain.fund_eth(w.address, 10**18)
        rec.send(rlc, "transfer", deployer, w.address, 100 * NRLC)
        rec.send(rlc, "approveAndCall", w, hub.address, 100 * NRLC, b"")
    pool_orders: dict[int, WorkerpoolOrder] = {}

    def open_deal(
        trust: int, volume: int = 1, callback: str = ZERO
    ) -> tuple[bytes, Deal, TxReceipt]:
        if trust not in pool_orders:
            pool_orders[trust] = WorkerpoolOrder(
                workerpool=pool, workerpoolprice=NRLC, volume=10_000, trust=trust, salt=salt()
            ).signed(pool_owner.key, domain)
        receipt = match(
            app_order,
            none,
            pool_orders[trust],
            request(trust=trust, volume=volume, callback=callback),
        )
        created = market.events.DealCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        return created["deal_id"], Deal.from_tuple(created["deal"]), receipt

    def deal_args(deal_id: bytes, record: Deal) -> tuple[Any, ...]:
        return (record.as_tuple(), deal_id)

    digest = keccak(text="3628800")
    results = keccak(text="result archive")

    def push(record: Deal, deal_id: bytes, index: int, worker: LocalAccount) -> TxReceipt:
        task = record.task_ids(deal_id)[index - record.bot_first]
        auth = sign_authorization(pool_owner.key, hub_domain, worker.address, task)
        return rec.send(
            hub,
            "contributeAndFinalize",
            worker,
            *deal_args(deal_id, record),
            index,
            digest,
            results,
            b"",
            ZERO,
            b"",
            auth,
        )

    def contribute(
        record: Deal, deal_id: bytes, index: int, worker: LocalAccount, answer: bytes = digest
    ) -> TxReceipt:
        task = record.task_ids(deal_id)[index - record.bot_first]
        auth = sign_authorization(pool_owner.key, hub_domain, worker.address, task)
        return rec.send(
            hub, "contribute", worker, *deal_args(deal_id, record), index,
            result_hash(task, answer), result_seal(worker.address, task, answer), ZERO, b"", auth,
        )  # fmt: skip

    def warp(seconds: int) -> None:
        chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    # warm-up: the first trust-1 task pays the worker and the app owner once
    deal_id, record, _ = open_deal(1)
    push(record, deal_id, 0, workers[0])
    # a fresh request for one task, then its result in one transaction
    deal_id, record, matched = open_deal(1)
    pushed = push(record, deal_id, 0, workers[0])
    scenarios["single_task_trust1"] = gas(matched) + gas(pushed)
    scenarios["single_task_trust1_result_tx"] = gas(pushed)
    # a 100-task bag at trust 1, results pushed by 4 workers
    deal_id, record, matched = open_deal(1, volume=100)
    pushes = [gas(push(record, deal_id, i, workers[i % 4])) for i in range(100)]
    scenarios["deal100_trust1_per_task"] = round((gas(matched) + sum(pushes)) / 100)
    # one task at trust 100 with 7 fresh agreeing workers
    deal_id, record, matched = open_deal(100)
    index = record.bot_first
    task = record.task_ids(deal_id)[0]
    total = gas(matched) + gas(
        rec.send(hub, "initialize", pool_owner, *deal_args(deal_id, record), index)
    )
    total += sum(gas(contribute(record, deal_id, index, w)) for w in workers)
    total += sum(gas(rec.send(hub, "reveal", w, task, digest)) for w in workers)
    total += gas(
        rec.send(
            hub,
            "finalize",
            pool_owner,
            *deal_args(deal_id, record),
            index,
            results,
            b"",
            [w.address for w in workers],
        )
    )
    scenarios["trust100_7workers"] = total
    # batches, reopen and claim, so every function is measured
    deal_id, record, _ = open_deal(2, volume=4)
    rec.send(hub, "initializeArray", pool_owner, *deal_args(deal_id, record), [0, 1])
    items = []
    for index in (0, 1):
        contribute(record, deal_id, index, workers[1])
        rec.send(hub, "reveal", workers[1], record.task_ids(deal_id)[index], digest)
        items.append((index, results, b"", [workers[1].address]))
    rec.send(hub, "finalizeArray", pool_owner, *deal_args(deal_id, record), items)
    deal_id, record, _ = open_deal(5, volume=3)
    rec.send(hub, "initialize", pool_owner, *deal_args(deal_id, record), 0)
    contribute(record, deal_id, 0, workers[2], keccak(text="lost"))
    for w in workers[3:7]:
        contribute(record, deal_id, 0, w)
    warp(2 * record.time_ref)
    rec.send(hub, "reopen", pool_owner, *deal_args(deal_id, record), 0)
    warp(10 * record.time_ref)
    contributors = sorted(
        [workers[2].address, *(w.address for w in workers[3:7])], key=lambda a: int(a, 16)
    )
    rec.send(hub, "claim", requester, *deal_args(deal_id, record), 0, contributors)
    rec.send(hub, "claimArray", requester, *deal_args(deal_id, record), [(1, []), (2, [])])

    return {
        "functions": rec.summary(),
        "scenarios": scenarios,
        "reference": {"iexec_poco_average": IEXEC},
        "meta": {
            "measured_on": "anvil receipts (gasUsed: base cost, calldata and execution)",
            "vyper": vyper.__version__,
            "anvil": subprocess.run(
                [find_anvil(), "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
            "note": (
                "create_app: the owner's first asset (its ERC-721 balance slot starts at zero); "
                "single_task_trust1: match + contributeAndFinalize, app and pool orders and the "
                "worker already in use; deal100_trust1_per_task: (match + 100 results) / 100; "
                "trust100_7workers: match + initialize + 7 contribute + 7 reveal + finalize, "
                "fresh workers"
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"where to write the JSON (default {RESULTS})"
    )
    options = parser.parse_args()
    with Anvil() as node:
        result = run(Chain(node.url))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
