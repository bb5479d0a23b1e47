"""Latency of one task, request to result in hand, on an automine chain and with 1-second blocks.

For each chain mode a devnet (storage, market, the devnet pool's scheduler and 3 sandboxed
workers, as `nuage devnet up` starts it) sells a trivial app (`dapps/factorial 10`) at trust 1.
The requester then buys one task at a time, as `nuage run` does (`Client.run`: the market's
explanation, signing, `matchOrders`), waits for its `TaskFinalized` (polled every 50 ms) and
downloads and unpacks its result from storage: that is one sample. Requests start at random
moments (0-2 s after the previous result, seeded), so they do not keep step with the workers'
2-second pull cadence. One warm-up run per mode is not counted.

Writes bench/results/latency.json and prints it:

    {"automine": {"runs", "p50_s", "p95_s", "mean_s", "min_s", "max_s", "phases_p50_s": {...}},
     "block_time_1s": {...}, "meta": {...}}

Run: `python -m bench.latency [--runs 30] [--workers 3] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.throughput import (
    APP_ARGS,
    APP_OUTPUT,
    BenchNet,
    bench_devnet,
    buy,
    load_average,
    machine_meta,
    prefix,
    timeline,
    wait_finalized,
    write,
)

RESULTS = Path(__file__).parent / "results" / "latency.json"
RUNS = 30
WORKERS = 3  # the devnet's default
MODES = {"automine": None, "block_time_1s": 1}


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def one_run(net: BenchNet, into: Path) -> tuple[dict[str, float], tuple[str, str, float]]:
    """One task bought, followed and downloaded: its phases in seconds, and (task id, deal id,
    when it was matched) to find it in the services' logs."""
    purchase = buy(net, 1)
    (task,) = purchase.task_ids
    finalized = wait_finalized(net, [task], purchase.first_block, timeout=300)
    if task not in finalized:
        raise RuntimeError(f"task {task} was not finalized within 300 s")
    result = net.requester.download(task, into=into / task)
    done = time.time()
    if result.text != APP_OUTPUT:
        raise RuntimeError(f"task {task} gave {result.text!r}, not {APP_OUTPUT}")
    start, matched = purchase.requested_at, purchase.matched_at[0]
    phases = {
        "total": done - start,
        "request_to_match": matched - start,
        "match_to_finalized_seen": finalized[task] - matched,
        "download": done - finalized[task],
    }
    return phases, (task, purchase.runs[0].deal_id, matched)


def log_phases(net: BenchNet, tasks: list[tuple[str, str, float]]) -> dict[str, float]:
    """Medians, in seconds, of the steps inside match -> finalized, from the services' logs:
    the scheduler seeing the deal, a worker pulling it, running it, finalizing it."""
    line = timeline(net.logs)
    spans: dict[str, list[float]] = {
        "match_to_deal_seen": [],
        "deal_seen_to_assigned": [],
        "assigned_to_computed": [],
        "computed_to_completed": [],
    }
    for task, deal, matched in tasks:
        steps = line.tasks.get(prefix(task), {})
        seen = line.deals.get(prefix(deal))
        if seen is None or not {"assigned", "computed", "completed"} <= steps.keys():
            continue
        spans["match_to_deal_seen"].append(seen - matched)
        spans["deal_seen_to_assigned"].append(steps["assigned"] - seen)
        spans["assigned_to_computed"].append(steps["computed"] - steps["assigned"])
        spans["computed_to_completed"].append(steps["completed"] - steps["computed"])
    return {name: round(statistics.median(v), 3) for name, v in spans.items() if v}


def measure_mode(block_time: int | None, runs: int, workers: int, seed: int) -> dict[str, Any]:
    pause = random.Random(seed)
    samples: list[dict[str, float]] = []
    logged: list[tuple[str, str, float]] = []
    with bench_devnet(workers, block_time=block_time) as net, tempfile.TemporaryDirectory() as tmp:
        one_run(net, Path(tmp))  # warm-up: the workers' bundle caches, the market's first query
        for _ in range(runs):
            time.sleep(pause.uniform(0, 2))
            sample, found = one_run(net, Path(tmp))
            samples.append(sample)
            logged.append(found)
        phases_from_logs = log_phases(net, logged)
        up_s = net.up_s
    totals = [s["total"] for s in samples]
    return {
        "runs": len(samples),
        "p50_s": round(percentile(totals, 50), 3),
        "p95_s": round(percentile(totals, 95), 3),
        "mean_s": round(statistics.fmean(totals), 3),
        "min_s": round(min(totals), 3),
        "max_s": round(max(totals), 3),
        "phases_p50_s": {
            name: round(statistics.median(s[name] for s in samples), 3)
            for name in ("request_to_match", "match_to_finalized_seen", "download")
        },
        "inside_match_to_finalized_p50_s": phases_from_logs,
        "devnet_up_s": up_s,
    }


def measure(runs: int, workers: int) -> dict[str, Any]:
    load_before = load_average()
    result: dict[str, Any] = {
        mode: measure_mode(block_time, runs, workers, seed=index)
        for index, (mode, block_time) in enumerate(MODES.items())
    }
    result["meta"] = {
        "app": f"dapps/factorial {' '.join(APP_ARGS)} at trust 1 (one contributeAndFinalize)",
        "workers": f"{workers}, one task at a time each; they pull every 2 s when idle",
        "sample": "request (explain, sign, matchOrders) -> TaskFinalized seen (polled every "
        "50 ms) -> result downloaded and unpacked; requests 0-2 s apart (seeded)",
        "percentiles": "linear interpolation between closest ranks",
        **machine_meta(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="samples per chain mode (>= 30)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    write(measure(options.runs, options.workers), options.out)


if __name__ == "__main__":
    main()
