"""How fast the transaction sender is, alone and from several threads, on an automine anvil.

Side by side in one run: the same 200 deposits sent by one thread, then by 4 threads sharing
one sender (the nonce lock), then by 4 senders each with its own account; and the latency of
one `deposit` (estimate, sign, send, receipt). Writes bench/results/chain.json and prints it:

    {"scenarios": {name: {"transactions", "seconds", "tx_per_s"}},
     "deposit_latency_ms": {"p50", "p95"}, "meta": {...}}

Run: `python -m bench.chain [--transactions N] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from nuage.chain.anvil import Anvil
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol

RESULTS = Path(__file__).parent / "results" / "chain.json"
DEPLOYER = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
NRLC = 10**9


def _funded(contracts: Contracts) -> LocalAccount:
    account = Account.create()
    contracts.chain.fund_eth(account.address, 10**20)
    contracts.transfer_rlc(DEPLOYER, account.address, 10**6 * NRLC)
    return account


def _timed(count: int, threads: int, send: Callable[[int], object]) -> dict[str, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(send, range(count)))
    seconds = time.perf_counter() - started
    return {
        "transactions": count,
        "seconds": round(seconds, 3),
        "tx_per_s": round(count / seconds, 1),
    }


def measure(transactions: int) -> dict[str, Any]:
    with Anvil() as node:
        chain = Chain(node.url)
        contracts = Contracts(chain, deploy_protocol(chain, DEPLOYER))
        one = _funded(contracts)
        senders = [_funded(contracts) for _ in range(4)]

        scenarios = {
            "1_thread_1_sender": _timed(transactions, 1, lambda _: contracts.deposit(one, NRLC)),
            "4_threads_1_sender": _timed(transactions, 4, lambda _: contracts.deposit(one, NRLC)),
            "4_threads_4_senders": _timed(
                transactions, 4, lambda i: contracts.deposit(senders[i % 4], NRLC)
            ),
        }
        latencies = []
        for _ in range(50):
            started = time.perf_counter()
            contracts.deposit(one, NRLC)
            latencies.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(latencies, n=20)
    return {
        "scenarios": scenarios,
        "deposit_latency_ms": {"p50": round(quantiles[9], 2), "p95": round(quantiles[18], 2)},
        "meta": {
            "chain": "anvil, automine",
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = measure(args.transactions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
