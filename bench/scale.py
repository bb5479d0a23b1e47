"""How the pipeline's task rate grows with workers and deal sizes, and where the time goes.

For each worker count in 1, 2, 4, 8 a devnet (automine anvil, storage, market, the devnet
pool's scheduler and that many sandboxed workers, one task at a time each) sells a trivial app
(`dapps/factorial 10`) at trust 1; the requester buys deals of 1, 10, 100 and 1,000 tasks, one
after the other, each followed to its last `TaskFinalized` (`bench.throughput.measure_bag`):
tasks/s from the match's receipt to the last task finalized, the mean and median time of each
step of a task, and how the workers' time splits between chain, sandbox, storage and the
scheduler, from the services' own logs.

The grid is capped so that `make bench` stays under 30 minutes on 2 cores: a deal runs only
when it holds at most `--max-tasks-per-worker` (25) tasks per worker. The 1,000-task deal with 4
workers is `bench.throughput`'s bag, read from bench/results/throughput.json when present (same
devnet, same app, same measure). Cells left out are listed under `capped`, never extrapolated.

Writes bench/results/scale.json and prints it:

    {"cells": [{"workers", "tasks", "tasks_per_s", "seconds", "stage_times",
                "where_the_time_goes", ...}],
     "tasks_per_s": {"<workers>": {"<tasks>": rate}}, "capped": [...],
     "missing_instrumentation": [...], "meta": {...}}

Run: `python -m bench.scale [--workers 1 2 4 8] [--tasks 1 10 100 1000]
[--max-tasks-per-worker 25] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.throughput import (
    APP_ARGS,
    TIME_NOTES,
    bench_devnet,
    load_average,
    machine_meta,
    measure_bag,
    write,
)
from bench.throughput import RESULTS as THROUGHPUT_RESULTS

RESULTS = Path(__file__).parent / "results" / "scale.json"
WORKER_COUNTS = (1, 2, 4, 8)
DEAL_SIZES = (1, 10, 100, 1_000)
MAX_TASKS_PER_WORKER = 25

MISSING_INSTRUMENTATION = [
    "the scheduler's /health gives counts only (tasks by phase, workers alive): no durations, "
    "no count of pulls answered 'no work' and why",
    "a pull answered 'no work' is not logged (at info), so the time between two tasks of a "
    "worker is known only as a gap, not split into pull round trips and retry_after sleeps",
    "the worker logs one line for fetch: the chain reads checking the assignment (deal "
    "commitment, app record) and the bundle download (or cache hit) are not told apart",
    "the sandbox's own cost (namespaces, cgroup, uid setup and teardown) is not logged apart "
    "from the app's run time",
    "log lines carry the task id's first 8 hex digits only (a collision among 1,000 tasks has "
    "a ~1e-4 chance), and millisecond stamps",
]


def plan(
    worker_counts: tuple[int, ...], sizes: tuple[int, ...], per_worker: int
) -> tuple[dict[int, list[int]], list[dict[str, Any]]]:
    """The deals each worker count runs, and the cells capped (why)."""
    runs: dict[int, list[int]] = {}
    capped = []
    for workers in worker_counts:
        runs[workers] = [size for size in sizes if size <= per_worker * workers]
        capped += [
            {
                "workers": workers,
                "tasks": size,
                "why": f"over {per_worker} tasks per worker (the 30-minute budget of make bench)",
            }
            for size in sizes
            if size > per_worker * workers
        ]
    return runs, capped


def from_throughput(path: Path) -> dict[str, Any] | None:
    """The throughput benchmark's bag as a cell of the grid, when its file exists."""
    try:
        raw = json.loads(path.read_text())
        pipeline = raw["pipeline"]
        return {
            "workers": int(pipeline["workers"]),
            "tasks": int(pipeline["tasks"]),
            "tasks_per_s": pipeline["tasks_per_s"],
            "seconds": pipeline["seconds"],
            "finalized": pipeline["finalized"],
            "deals": pipeline["deals"],
            "stage_times": pipeline.get("stage_times"),
            "where_the_time_goes": raw.get("where_the_time_goes"),
            "cpu": _services_cpu(raw.get("cpu_ms_per_task")),
            "source": "bench/results/throughput.json",
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _services_cpu(cpu: Any) -> dict[str, Any] | None:
    """The throughput file's CPU per task, as a scale cell has it: the devnet's processes."""
    if not isinstance(cpu, dict) or not isinstance(cpu.get("pipeline"), dict):
        return None
    services = {k: v for k, v in cpu["pipeline"].items() if not k.startswith("app_in_sandbox")}
    return {"ms_per_task": services, "total_ms_per_task": round(sum(services.values()), 1)}


def measure(
    worker_counts: tuple[int, ...],
    sizes: tuple[int, ...],
    per_worker: int,
    timeout: float,
    throughput: Path = THROUGHPUT_RESULTS,
) -> dict[str, Any]:
    load_before = load_average()
    runs, capped = plan(worker_counts, sizes, per_worker)
    cells: list[dict[str, Any]] = []
    for workers, deal_sizes in runs.items():
        if not deal_sizes:
            continue
        with bench_devnet(workers) as net:
            for size in deal_sizes:
                cell = measure_bag(net, size, timeout)
                cell["devnet_up_s"] = net.up_s
                cells.append(cell)
    borrowed = from_throughput(throughput)
    if borrowed is not None:
        key = {"workers": borrowed["workers"], "tasks": borrowed["tasks"]}
        if any(c["workers"] == key["workers"] and c["tasks"] == key["tasks"] for c in capped):
            capped = [c for c in capped if {"workers": c["workers"], "tasks": c["tasks"]} != key]
            cells.append(borrowed)
    cells.sort(key=lambda c: (c["workers"], c["tasks"]))
    table: dict[str, dict[str, float | None]] = {}
    for cell in cells:
        table.setdefault(str(cell["workers"]), {})[str(cell["tasks"])] = cell["tasks_per_s"]
    return {
        "cells": cells,
        "tasks_per_s": table,
        "capped": capped,
        "missing_instrumentation": MISSING_INSTRUMENTATION,
        "meta": {
            "app": f"dapps/factorial {' '.join(APP_ARGS)} at trust 1",
            "chain": "anvil, automine",
            "grid": f"workers {list(worker_counts)} x deal sizes {list(sizes)}; one devnet per "
            "worker count, its deals bought one after the other, each followed to its end",
            "cap": f"a deal runs when it holds at most {per_worker} tasks per worker",
            "time_notes": TIME_NOTES,
            **machine_meta(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKER_COUNTS))
    parser.add_argument("--tasks", type=int, nargs="+", default=list(DEAL_SIZES))
    parser.add_argument("--max-tasks-per-worker", type=int, default=MAX_TASKS_PER_WORKER)
    parser.add_argument("--timeout", type=float, default=600, help="seconds for each deal")
    parser.add_argument(
        "--throughput", type=Path, default=THROUGHPUT_RESULTS, help="where bench.throughput wrote"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    result = measure(
        tuple(options.workers),
        tuple(options.tasks),
        options.max_tasks_per_worker,
        options.timeout,
        options.throughput,
    )
    write(result, options.out)


if __name__ == "__main__":
    main()
