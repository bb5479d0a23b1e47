"""End-to-end throughput of a bag of tasks, beside the same executions run bare in the sandbox.

A devnet (automine anvil, storage, market, the devnet pool's scheduler and 4 sandboxed workers,
each running one task at a time) sells 1,000 tasks of a trivial app (`dapps/factorial` with
argument 10: a Python start and a few milliseconds of work) at trust 1. The requester buys them
(one deal of 1,000, or several when an order has less volume left) and the clock runs from the
first match's receipt to the last `TaskFinalized` seen on chain. In the same run, before the
devnet starts, the same 1,000 executions go through the sandbox runner the way a worker runs
them (`nuage.worker.execution.execute`: bubblewrap, the iExec mounts and variables, the result's
digest), 4 at a time. The ratio pipeline / bare is the share of the machine's task rate the
protocol keeps (goal: at least 0.5).

Where the time goes comes from the services' own logs (each line is stamped to the
millisecond): the scheduler's ("deal … for this pool", "task … handed to …") and each worker's
("assigned", "inputs ready", "computed", "result uploaded", "completed in one transaction").

Writes bench/results/throughput.json and prints it:

    {"pipeline": {"tasks", "deals", "workers", "seconds", "tasks_per_s", ...},
     "bare": {"executions", "parallelism", "seconds", "tasks_per_s"},
     "ratio": pipeline / bare, "goal": {"ratio_at_least": 0.5, "met": bool},
     "where_the_time_goes": {...}, "meta": {...}}

Run: `python -m bench.throughput [--tasks 1000] [--workers 4] [--out PATH]`.

The devnet helpers here (`bench_devnet`, `buy`, `measure_bag`, `timeline`) serve
`bench.latency` and `bench.scale` too.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from nuage import devnet
from nuage.apps import build, unpack
from nuage.chain.anvil import free_ports
from nuage.client import Client, Run
from nuage.config import Settings
from nuage.exceptions import OrderIncompatible
from nuage.protocol.amounts import NRLC_PER_RLC
from nuage.sandbox import Limits, Runner, RunResult, RunSpec, default_runner
from nuage.worker.execution import TaskContext, execute

RESULTS = Path(__file__).parent / "results" / "throughput.json"
APP_DIR = Path(__file__).resolve().parents[1] / "dapps" / "factorial"
APP_ARGS = ("10",)
APP_OUTPUT = "3628800"
TASKS = 1_000
WORKERS = 4
GOAL_RATIO = 0.5
# what a devnet worker gives a task of category 0 (XS: 300 s) and its default memory
WORKER_LIMITS = Limits(wall_clock_s=300, cpu_time_s=300, memory_bytes=1024**3)


# -- the machine ---------------------------------------------------------------------------------


def machine_meta() -> dict[str, Any]:
    """What the figures were measured on; the load average says what else was running."""
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "sandbox": default_runner().describe(),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- a devnet for benchmarks (shared with bench.latency and bench.scale) ------------------------


@dataclass
class BenchNet:
    """A running devnet with the app deployed and on sale at price 0, and a funded requester."""

    settings: Settings
    state: devnet.DevnetState
    requester: Client
    app: str
    workers: int
    up_s: float

    @property
    def logs(self) -> Path:
        return self.settings.devnet_dir


@contextlib.contextmanager
def bench_devnet(
    workers: int, *, block_time: int | None = None, deposit_rlc: int = 5_000
) -> Iterator[BenchNet]:
    """A devnet in a temporary NUAGE_HOME on free ports, stopped and removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="nuage-bench-"))
    settings = Settings(home=home)
    started = time.monotonic()
    ports = free_ports(4)
    try:
        state = devnet.up(
            settings,
            workers=workers,
            block_time=block_time,
            port=ports[0],
            storage_port=ports[1],
            market_port=ports[2],
            scheduler_port=ports[3],
            explorer=False,  # no part of a task's path; it would take CPU from those that are
        )
        up_s = time.monotonic() - started
        owner = Client.devnet("app-owner", home=home)
        bundle = build(APP_DIR, home / "bundle" / "app.zip")  # not into the repository's dist/
        owner.upload(bundle.path)
        app, _ = owner.contracts.register_app(
            owner.signer, bundle.manifest.name, bytes.fromhex(bundle.sha256)
        )
        owner.publish_app(app, price=0, volume=1_000_000)
        requester = Client.devnet("requester", home=home)
        requester.contracts.deposit(requester.signer, deposit_rlc * NRLC_PER_RLC)
        yield BenchNet(settings, state, requester, app, workers, round(up_s, 1))
    finally:
        devnet.down(settings)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Purchase:
    """The deals bought for one request of `volume` tasks, and when."""

    runs: list[Run] = field(default_factory=list)
    requested_at: float = 0.0  # wall clock (epoch seconds) before the first request
    matched_at: list[float] = field(default_factory=list)  # after each match's receipt
    first_block: int = 0  # the chain's head before the first match

    @property
    def task_ids(self) -> list[str]:
        return [task for run in self.runs for task in run.task_ids]


def buy(net: BenchNet, volume: int, timeout: float = 120.0) -> Purchase:
    """Buys `volume` tasks of the app at trust 1: one deal, or more when orders run short."""
    purchase = Purchase(requested_at=time.time())
    purchase.first_block = net.requester.contracts.chain.w3.eth.block_number
    deadline = time.monotonic() + timeout
    while len(purchase.task_ids) < volume:
        try:
            run = net.requester.run(net.app, APP_ARGS, volume=volume - len(purchase.task_ids))
        except OrderIncompatible:  # a filled pool order: its scheduler publishes the next one
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        purchase.runs.append(run)
        purchase.matched_at.append(time.time())
    return purchase


def wait_finalized(
    net: BenchNet, task_ids: Iterable[str], from_block: int, timeout: float, poll: float = 0.05
) -> dict[str, float]:
    """When each task's `TaskFinalized` was first seen (epoch seconds); stops at `timeout`."""
    hub = net.requester.hub
    event = hub.contract.events.TaskFinalized()
    waiting = {bytes.fromhex(t.removeprefix("0x")) for t in task_ids}
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    next_block = from_block
    while waiting and time.monotonic() < deadline:
        head = hub.chain.w3.eth.block_number
        if head >= next_block:
            now = time.time()
            for entry in event.get_logs(from_block=next_block, to_block=head):
                task = bytes(entry["args"]["task_id"])
                if task in waiting:
                    waiting.discard(task)
                    seen["0x" + task.hex()] = now
            next_block = head + 1
        if waiting:
            time.sleep(poll)
    return seen


# -- what the services' logs say ------------------------------------------------------------------

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+ \S+: (.*)$")
_TASK = r"task (0x[0-9a-f]{8})…"
WORKER_STEPS = {
    "assigned": re.compile(_TASK + r" assigned"),
    "ready": re.compile(_TASK + r": app \S+ and \d+ inputs ready"),
    "computed": re.compile(_TASK + r" computed"),
    "uploaded": re.compile(_TASK + r": result uploaded"),
    "completed": re.compile(_TASK + r" (?:completed in one transaction|was completed already)"),
}
SCHEDULER_STEPS = {
    "handed": re.compile(_TASK + r" \(index \d+\) handed to"),
    "seen_completed": re.compile(_TASK + r" completed, result"),
}
DEAL_SEEN = re.compile(r"deal (0x[0-9a-f]{8})… for this pool")
# the worker's steps in order, each named by the step that ends it
STAGES = {
    "fetch": ("assigned", "ready"),
    "sandbox": ("ready", "computed"),
    "upload": ("computed", "uploaded"),
    "finalize": ("uploaded", "completed"),
}


def log_stamp(text: str) -> float:
    """Epoch seconds of a log line's `asctime` (local time, milliseconds)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def parse_log(
    lines: Iterable[str], steps: dict[str, re.Pattern[str]]
) -> dict[str, dict[str, float]]:
    """{task prefix (0x + 8 hex): {step: first time seen}} from one service's log lines."""
    found: dict[str, dict[str, float]] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        for step, pattern in steps.items():
            hit = pattern.match(match.group(2))
            if hit is not None:
                found.setdefault(hit.group(1), {}).setdefault(step, log_stamp(match.group(1)))
                break
    return found


def deals_seen(lines: Iterable[str]) -> dict[str, float]:
    """{deal prefix: when the scheduler logged it} from the scheduler's log."""
    seen: dict[str, float] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is not None and (hit := DEAL_SEEN.match(match.group(2))) is not None:
            seen.setdefault(hit.group(1), log_stamp(match.group(1)))
    return seen


@dataclass
class Timeline:
    """Each task's steps as the services logged them, and which worker ran it."""

    tasks: dict[str, dict[str, float]]  # task prefix -> step -> epoch seconds
    worker_of: dict[str, str]  # task prefix -> worker-N
    deals: dict[str, float]  # deal prefix -> when the scheduler saw it


def timeline(log_dir: Path) -> Timeline:
    tasks: dict[str, dict[str, float]] = {}
    worker_of: dict[str, str] = {}
    for log in sorted(log_dir.glob("worker-*.log")):
        for task, steps in parse_log(_lines(log), WORKER_STEPS).items():
            tasks.setdefault(task, {}).update(steps)
            worker_of[task] = log.stem
    scheduler = _lines(log_dir / "scheduler.log")
    for task, steps in parse_log(scheduler, SCHEDULER_STEPS).items():
        tasks.setdefault(task, {}).update(steps)
    return Timeline(tasks, worker_of, deals_seen(scheduler))


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []


def prefix(task_id: str) -> str:
    return task_id[:10]


def stage_times(line: Timeline, task_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per stage, the mean and median milliseconds a task spent in it (tasks fully logged)."""
    result: dict[str, dict[str, float]] = {}
    stages = {"handout": ("handed", "assigned"), **STAGES}
    for stage, (start, end) in stages.items():
        spans = [
            (steps[end] - steps[start]) * 1000
            for task in task_ids
            if (steps := line.tasks.get(prefix(task))) and start in steps and end in steps
        ]
        if spans:
            result[stage] = {
                "mean_ms": round(statistics.fmean(spans), 1),
                "p50_ms": round(statistics.median(spans), 1),
                "tasks": len(spans),
            }
    return result


def worker_time(
    line: Timeline, task_ids: Sequence[str], workers: int, start: float, end: float
) -> dict[str, Any]:
    """How the workers' time between `start` (the match) and `end` (the last task finalized)
    was spent, as shares of workers x (end - start); with the four places the issue names."""
    window = max(end - start, 1e-9) * workers
    spent = dict.fromkeys([*STAGES, "before_first_task", "between_tasks", "after_last_task"], 0.0)
    by_worker: dict[str, list[dict[str, float]]] = {}
    for task in task_ids:
        steps = line.tasks.get(prefix(task), {})
        if "assigned" in steps and "completed" in steps:
            by_worker.setdefault(line.worker_of[prefix(task)], []).append(steps)
    for steps_list in by_worker.values():
        steps_list.sort(key=lambda s: s["assigned"])
        spent["before_first_task"] += max(steps_list[0]["assigned"] - start, 0.0)
        spent["after_last_task"] += max(end - steps_list[-1]["completed"], 0.0)
        for previous, following in itertools.pairwise(steps_list):
            spent["between_tasks"] += max(following["assigned"] - previous["completed"], 0.0)
        for steps in steps_list:
            for stage, (begin, finish) in STAGES.items():
                if begin in steps and finish in steps:
                    spent[stage] += steps[finish] - steps[begin]
    # a worker that never got a task waited all along: for want of tasks when the bag is
    # smaller than the pool, else for the scheduler
    idle = workers - len(by_worker)
    without_task = min(idle, max(workers - len(task_ids), 0))
    spent["after_last_task"] += without_task * (end - start)
    spent["before_first_task"] += (idle - without_task) * (end - start)
    shares = {name: round(seconds / window, 3) for name, seconds in spent.items()}
    places = {
        "chain": shares["fetch"] + shares["finalize"],
        "sandbox": shares["sandbox"],
        "storage": shares["upload"],
        "scheduler": shares["before_first_task"] + shares["between_tasks"],
        "no_task_left": shares["after_last_task"],
    }
    return {
        "shares_of_worker_time": shares,
        "places": {name: round(value, 3) for name, value in places.items()},
        "workers_that_ran_tasks": len(by_worker),
    }


TIME_NOTES = {
    "stages": "from each worker's log: fetch = assigned -> inputs ready (the assignment "
    "checked against the chain: deal commitment, app record; the bundle from the worker's "
    "cache, from storage the first time); sandbox = inputs ready -> computed (bubblewrap run "
    "and digest); upload = computed -> result uploaded (zip, storage PUT); finalize = uploaded "
    "-> completed (contributeAndFinalize: estimate, sign, send, receipt); handout = the "
    "scheduler's 'handed to' -> the worker's 'assigned' (the pull's HTTP answer)",
    "cpu": "CPU per task, by devnet process (user + system, reaped children included: bwrap), "
    "from the kernel between the first request and the last TaskFinalized; a sandboxed app "
    "runs in its own cgroup and session, outside its worker's count: its CPU is the one its "
    "cgroup counted (RunResult.cpu_s), measured in the bare run; the requester is this "
    "benchmark (explain, sign, match, poll for TaskFinalized every 50 ms)",
    "deal_seen": "match_to_scheduler_sees_deal_ms: the scheduler's log line minus the "
    "requester's receipt; it can be negative, the scheduler's watcher polling the new block "
    "before the requester's receipt poll returns",
    "places": "chain = fetch + finalize; sandbox; storage = upload; scheduler = before the "
    "worker's first task (the scheduler's watcher seeing the deal, the worker's next pull) + "
    "between two tasks of a worker (the pull's round trip: a worker asks again as soon as a "
    "slot frees, naming the replicates still busy); no_task_left = after a worker's last "
    "task until the last task ends, and all along for a worker the bag had no task for (a bag "
    "smaller than the pool)",
}


# -- CPU: where the machine's time goes ----------------------------------------------------------


def service_cpu(state: devnet.DevnetState) -> dict[str, float]:
    """CPU seconds (user + system, reaped children included: a worker's sandboxes) each devnet
    process has used so far, the workers together; from the kernel, as `ps` reads it."""
    used: dict[str, float] = {}
    for daemon in state.daemons:
        try:
            times = psutil.Process(daemon.pid).cpu_times()
        except psutil.Error:
            continue
        name = "workers" if daemon.name.startswith("worker-") else daemon.name
        spent = times.user + times.system + times.children_user + times.children_system
        used[name] = used.get(name, 0.0) + spent
    return used


def own_cpu() -> float:
    """CPU seconds of this process and its reaped children (the bare runs' sandboxes)."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def cpu_per_task(before: dict[str, float], after: dict[str, float], tasks: int) -> dict[str, Any]:
    """Milliseconds of CPU per task, by process, between two `service_cpu` snapshots."""
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    per_task = {name: round(seconds * 1000 / max(tasks, 1), 1) for name, seconds in spent.items()}
    return {"ms_per_task": per_task, "total_ms_per_task": round(sum(per_task.values()), 1)}


# -- one bag --------------------------------------------------------------------------------------


def measure_bag(net: BenchNet, volume: int, timeout: float) -> dict[str, Any]:
    """Buys `volume` tasks and follows them to the end: tasks/s from the first match to the
    last TaskFinalized, and where the time went."""
    cpu_before = service_cpu(net.state) | {"requester (this benchmark)": own_cpu()}
    purchase = buy(net, volume)
    start = purchase.matched_at[0]
    finalized = wait_finalized(net, purchase.task_ids, purchase.first_block, timeout)
    end = max(finalized.values(), default=time.time())
    cpu_after = service_cpu(net.state) | {"requester (this benchmark)": own_cpu()}
    seconds = end - start
    line = timeline(net.logs)
    deal_seen = [
        line.deals[prefix(run.deal_id)] - matched
        for run, matched in zip(purchase.runs, purchase.matched_at, strict=True)
        if prefix(run.deal_id) in line.deals
    ]
    result: dict[str, Any] = {
        "tasks": volume,
        "finalized": len(finalized),
        "deals": len(purchase.runs),
        "workers": net.workers,
        "trust": 1,
        "seconds": round(seconds, 2),
        "tasks_per_s": round(len(finalized) / seconds, 3) if seconds > 0 else None,
        "request_to_match_s": round(start - purchase.requested_at, 3),
        "match_to_scheduler_sees_deal_ms": (
            round(statistics.fmean(deal_seen) * 1000, 1) if deal_seen else None
        ),
        "stage_times": stage_times(line, purchase.task_ids),
        "where_the_time_goes": worker_time(line, purchase.task_ids, net.workers, start, end),
        "cpu": cpu_per_task(cpu_before, cpu_after, len(finalized)),
    }
    if len(finalized) < volume:
        result["timed_out"] = f"{volume - len(finalized)} tasks not finalized within {timeout} s"
    return result


# -- the same executions, bare -------------------------------------------------------------------


class MeteredRunner:
    """A runner that keeps each run's CPU seconds, as its cgroup counted them: a sandboxed app
    runs in its own cgroup and session, outside the CPU the kernel charges to its parent."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.name = runner.name
        self.cpu_s: list[float] = []
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self.runner.available()

    def why_unavailable(self) -> str:
        return self.runner.why_unavailable()

    def describe(self) -> str:
        return self.runner.describe()

    def run(self, spec: RunSpec) -> RunResult:
        result = self.runner.run(spec)
        with self._lock:
            self.cpu_s.append(result.cpu_s or 0.0)
        return result


def bare(executions: int, parallelism: int) -> dict[str, Any]:
    """`executions` runs of the app through the sandbox as a worker runs them, `parallelism`
    at a time; each run gets its own task id and work directory, removed afterwards."""
    runner = MeteredRunner(default_runner())
    with tempfile.TemporaryDirectory(prefix="nuage-bench-bare-") as scratch:
        work = Path(scratch)
        bundle = build(APP_DIR, work / "app.zip")
        manifest = unpack(bundle.path, work / "app")

        def one(index: int) -> bool:
            context = TaskContext(
                task_id=index.to_bytes(32, "big"),
                deal_id=bytes(32),
                index=index,
                bot_first=0,
                bot_size=executions,
                args=APP_ARGS,
            )
            folder = work / "tasks" / str(index)
            result = execute(runner, work / "app", manifest, context, folder, WORKER_LIMITS)
            shutil.rmtree(folder, ignore_errors=True)
            return result.error is None

        started, cpu_before = time.perf_counter(), own_cpu()
        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            ok = sum(pool.map(one, range(executions)))
        seconds, host_cpu = time.perf_counter() - started, own_cpu() - cpu_before
    return {
        "executions": executions,
        "succeeded": ok,
        "parallelism": parallelism,
        "seconds": round(seconds, 2),
        "tasks_per_s": round(executions / seconds, 2),
        "cpu_ms_per_execution": {
            "app_in_sandbox": round(sum(runner.cpu_s) * 1000 / executions, 1),
            "runner_and_digest": round(host_cpu * 1000 / executions, 1),
        },
        "runner": runner.name,
    }


def measure(tasks: int, workers: int, timeout: float) -> dict[str, Any]:
    load_before = load_average()
    baseline = bare(tasks, workers)
    with bench_devnet(workers) as net:
        pipeline = measure_bag(net, tasks, timeout)
        pipeline["devnet_up_s"] = net.up_s
    ratio = (pipeline["tasks_per_s"] or 0) / baseline["tasks_per_s"]
    where = pipeline.pop("where_the_time_goes")
    app_cpu = baseline["cpu_ms_per_execution"]["app_in_sandbox"]
    services = pipeline.pop("cpu")["ms_per_task"]
    return {
        "pipeline": pipeline,
        "bare": baseline,
        "cpu_ms_per_task": {
            "pipeline": {**services, "app_in_sandbox (the bare run's figure)": app_cpu},
            "pipeline_total": round(sum(services.values()) + app_cpu, 1),
            "bare_total": round(sum(baseline["cpu_ms_per_execution"].values()), 1),
        },
        "ratio": round(ratio, 3),
        "goal": {"ratio_at_least": GOAL_RATIO, "met": ratio >= GOAL_RATIO},
        "where_the_time_goes": where,
        "meta": {
            "app": f"dapps/factorial {' '.join(APP_ARGS)} (stdlib Python, ~10 ms of work)",
            "chain": "anvil, automine",
            "pipeline": f"market match -> scheduler -> {workers} worker processes, one task at "
            "a time each -> sandbox -> storage -> contributeAndFinalize; from the first match's "
            "receipt to the last TaskFinalized seen (polled every 50 ms)",
            "bare": "nuage.worker.execution.execute (the sandbox run and the digest, as a "
            f"worker does it) in {workers} threads, before the devnet starts",
            "bag": f"{tasks} tasks measured, nothing extrapolated",
            "time_notes": TIME_NOTES,
            **machine_meta(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    }


def write(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".tmp")
    partial.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    partial.replace(out)
    print(json.dumps(result, indent=2, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=TASKS, help="tasks in the bag")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--timeout", type=float, default=1_200, help="seconds for the bag")
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    write(measure(options.tasks, options.workers, options.timeout), options.out)


if __name__ == "__main__":
    main()
