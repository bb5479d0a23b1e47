"""Sabotage tolerance: error rate and redundancy of the pool's replication policy.

Two parts, each writing its own section of bench/results/trust.json (the other is kept):

- **grid** (default): `nuage.trust.simulate` for bad fraction f in {0.05, 0.1, 0.2, 0.3}, lie
  probability s in {0.1, 0.5, 1} and trust in {10, 100, 1000}: a fresh pool of 100 workers runs
  30,000 tasks. Per cell: the error rate (goal <= 1/trust), the redundancy (contributions per
  task), the m-first voting that reaches the same error and its redundancy, and the workers'
  reputation over time. The same grid again with saboteurs served first (`eager_saboteurs`).
  Also checks that simulated m-first voting lands on its binomial formula. About 3 minutes
  on 2 cores.
- **devnet** (`--devnet`): a real devnet (anvil, storage, market; `nuage devnet up --no-pool`)
  with its own scheduler and 10 worker processes, 2 of them colluding saboteurs (f = 0.2, s = 1),
  runs 200 tasks of a trivial app at trust 100, one at a time as the simulator does; then the
  simulator predicts the same pool over the same number of tasks (500 seeds) and the run's
  error rate, redundancy, stalled rate and final scores must fall in the middle 95% of the
  predicted runs. About 10 minutes on 2 cores; at most `--budget` seconds of tasks (15 min),
  the tasks that ended by then are the ones counted.
- **devnet_concurrent** (`--devnet --concurrent`): the same with every task bought at once, as
  a loaded pool works; recorded to show where the simulator's random order of workers stops
  describing the real pool. About 8 minutes.

`--rejudge` compares the recorded devnet runs with the simulator again without running them.

Run: `python -m bench.trust [--devnet [--concurrent]] [--rejudge] [--tasks N] [--budget S]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak

from nuage import devnet
from nuage.apps import build
from nuage.chain.anvil import free_port, free_ports
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.hub import Hub
from nuage.config import Settings
from nuage.processes import Daemon, spawn, wait_until_healthy
from nuage.protocol import AppOrder, DatasetOrder, Domain, RequestOrder, WorkerpoolOrder
from nuage.protocol.consensus import contributions_for_trust
from nuage.protocol.poco import TaskStatus, result_hash
from nuage.storage import StorageClient
from nuage.trust import (
    Scenario,
    m_first_matching,
    predict,
    simulate,
    simulate_m_first,
)

RESULTS = Path(__file__).parent / "results" / "trust.json"
NRLC = 10**9

BAD_FRACTIONS = (0.05, 0.1, 0.2, 0.3)
LIE_PROBABILITIES = (0.1, 0.5, 1.0)
TRUSTS = (10, 100, 1000)
GRID_TASKS = 30_000
GRID_WORKERS = 100
BINOMIAL_CHECKS = ((0.2, 1.0, 1), (0.3, 1.0, 2), (0.3, 0.5, 3), (0.2, 1.0, 4), (0.3, 1.0, 5))
BINOMIAL_TASKS = 100_000

DEVNET_WORKERS = 10
DEVNET_BAD_FRACTION = 0.2
DEVNET_TRUST = 100
DEVNET_TASKS = 200
DEVNET_DEAL_SIZE = 25
DEVNET_BUDGET_S = 900.0
PREDICTION_RUNS = 500
TRIVIAL_APP = '''\
"""trivial: writes "ok" and names it in computed.json (the trust benchmark's app)."""
import json, os

out = os.environ.get("IEXEC_OUT", "/iexec_out")
with open(os.path.join(out, "result.txt"), "w") as f:
    f.write("ok\\n")
with open(os.path.join(out, "computed.json"), "w") as f:
    json.dump({"deterministic-output-path": os.path.join(out, "result.txt")}, f)
'''
TRIVIAL_MANIFEST = """\
name = "trivial"
description = "writes ok"
entrypoint = "main.py"
runtime = "python3"
requirements = []
"""


# -- the grid ----------------------------------------------------------------------------------


def grid_cell(cell: tuple[float, float, int, int, bool]) -> dict[str, Any]:
    """One (f, s, trust) cell: the simulated run and the m-first voting that matches it."""
    bad_fraction, lie_probability, trust, tasks, eager = cell
    started = time.perf_counter()
    run = simulate(
        Scenario(
            bad_fraction=bad_fraction,
            lie_probability=lie_probability,
            trust=trust,
            tasks=tasks,
            workers=GRID_WORKERS,
            eager=eager,
        )
    )
    report = run.to_json()
    matching = m_first_matching(run.error_rate, run.wrong, bad_fraction * lie_probability)
    report["m_first_same_error"] = matching.to_json()
    report["m_first_redundancy_ratio"] = (
        None if matching.replicas is None else round(matching.replicas / run.redundancy.value, 3)
    )
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def binomial_check(check: tuple[float, float, int]) -> dict[str, Any]:
    bad_fraction, lie_probability, m = check
    run = simulate_m_first(
        bad_fraction=bad_fraction,
        lie_probability=lie_probability,
        m=m,
        tasks=BINOMIAL_TASKS,
        seed=m,
    )
    report = run.to_json()
    report["formula_inside_interval"] = run.expected_error in run.error_rate
    return report


def run_grid(tasks: int, jobs: int) -> dict[str, Any]:
    def cells(count: int, eager: bool) -> list[tuple[float, float, int, int, bool]]:
        return [
            (f, s, t, count, eager)
            for t in TRUSTS
            for f in BAD_FRACTIONS
            for s in LIE_PROBABILITIES
        ]

    eager_tasks = max(1, tasks // 3)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(grid_cell, cells(tasks, eager=False)))
        eager = list(pool.map(grid_cell, cells(eager_tasks, eager=True)))
        binomial = list(pool.map(binomial_check, BINOMIAL_CHECKS))
    met = [cell for cell in results if cell["goal_met"]]
    worst = max(results, key=lambda cell: cell["error_rate"]["value"] / cell["goal_error"])
    return {
        "meta": {
            "model": (
                "a fresh pool of workers (all scores 0), a fraction f of them colluding "
                "saboteurs who return one shared wrong result with probability s; tasks one "
                "after another; replicates handed out by the scheduler's own decision "
                "(SchedulerState._replicas_needed -> protocol.consensus.replicas_needed, "
                "pending counted as joining the best group) to workers asking in a random "
                "order; contributions in a random order until the hub's consensus; scores "
                "as the hub moves them"
            ),
            "workers": GRID_WORKERS,
            "tasks_per_cell": tasks,
            "tasks_per_eager_cell": eager_tasks,
            "error_rate": "wrong results accepted / tasks, Wilson 95% interval",
            "redundancy": "contributions per task, mean and normal 95% interval",
            "assigned": "replicates handed out per task, those aborted at consensus included",
            "m_first_same_error": (
                "smallest M with eps(M, f*s) <= the measured error (its 95% upper bound when "
                "no error was seen), and the results such an m-first task collects on average"
            ),
            "timeline": (
                "20 checkpoints: mean scores of honest workers and saboteurs, and the error "
                "rate and redundancy of the tasks since the previous checkpoint"
            ),
            "seconds": round(time.perf_counter() - started, 1),
            "jobs": jobs,
            **_machine(),
        },
        "summary": {
            "cells": len(results),
            "goal_met": len(met),
            "worst_error_over_goal": {
                "scenario": worst["scenario"],
                "error_rate": worst["error_rate"],
                "goal_error": worst["goal_error"],
            },
            "redundancy_range": [
                min(cell["redundancy"]["value"] for cell in results),
                max(cell["redundancy"]["value"] for cell in results),
            ],
            "m_first_redundancy_ratio_range": [
                min(c["m_first_redundancy_ratio"] or 0 for c in results),
                max(c["m_first_redundancy_ratio"] or 0 for c in results),
            ],
            "binomial_formula_matched": all(b["formula_inside_interval"] for b in binomial),
            "eager_saboteurs_goal_met": sum(cell["goal_met"] for cell in eager),
            "eager_saboteurs_fully_wrong": [
                cell["scenario"] for cell in eager if cell["error_rate"]["value"] > 0.99
            ],
        },
        "cells": results,
        "eager_saboteurs": {
            "note": (
                "the same grid over a third of the tasks, the saboteurs served first: they ask "
                "for work before anyone else and contribute first (a colluder that skips the "
                "computation can), as the scheduler gives a task's replicates to whoever asks "
                "first. Once they are as many as the replicas a fresh task needs (7 at trust "
                "100, 10 at trust 1000, 4 at trust 10) and always lie, they decide every task "
                "and build the reputation themselves"
            ),
            "cells": eager,
        },
        "m_first_binomial_check": binomial,
    }


# -- the devnet --------------------------------------------------------------------------------


@dataclass
class TaskOutcome:
    index: int
    task_id: str
    status: str
    contributions: int
    wrong: bool
    stalled: bool


@dataclass
class SabotageDevnet:
    """A devnet with its own pool: a scheduler and workers as processes, some colluding.

    `up` starts it in a temporary `NUAGE_HOME` on free ports; `close` stops everything and
    removes the home. `buy(tasks)` matches deals of the trivial app at `trust`; `follow`
    watches them until each reached consensus or stalled (every worker contributed, no
    consensus) or the budget ran out.
    """

    workers: int = DEVNET_WORKERS
    saboteurs: int = round(DEVNET_BAD_FRACTION * DEVNET_WORKERS)
    trust: int = DEVNET_TRUST
    price: int = NRLC // 100  # per task: small, so stalled tasks' stakes fit the deposits
    log: Callable[[str], None] = print
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nuage-trust-")))
    daemons: list[Daemon] = field(default_factory=list)
    task_ids: list[bytes] = field(default_factory=list)

    def up(self) -> None:
        self.settings = Settings(home=self.home)
        self.log(f"devnet up in {self.home}: {self.workers} worker accounts, no pool")
        chain_port, storage_port, market_port, scheduler_port = free_ports(4)
        self.state = devnet.up(
            self.settings,
            port=chain_port,
            storage_port=storage_port,
            market_port=market_port,
            scheduler_port=scheduler_port,
            workers=self.workers,
            pool=False,
            progress=lambda line: self.log(f"  {line}"),
        )
        self.chain = Chain(self.state.rpc_url)
        self.contracts = Contracts(self.chain, self.state.deployment)
        self.hub = Hub(self.contracts)
        self.requester = self.state.account("requester")
        self.pool_owner = self.state.account("pool-owner")
        self.app_owner = self.state.account("app-owner")
        self.workerpool, _ = self.contracts.register_workerpool(self.pool_owner, "trust pool")
        self.contracts.deposit(self.requester, 1_000 * NRLC)
        self.contracts.deposit(self.pool_owner, 1_000 * NRLC)
        for n in range(1, self.workers + 1):
            self.contracts.deposit(self.state.account(f"worker-{n}"), 100 * NRLC)
        self.app = self._deploy_trivial_app()
        self.scheduler_url = self._start_scheduler()
        for n in range(1, self.workers + 1):
            self._start_worker(n, "colluding" if n <= self.saboteurs else "honest")
        self._wait_for_workers()

    def close(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()
        with contextlib.suppress(Exception):
            devnet.down(self.settings)
        shutil.rmtree(self.home, ignore_errors=True)

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "NUAGE_HOME": str(self.home),
            "NUAGE_RPC_URL": self.state.rpc_url,
            "NUAGE_STORAGE_URL": self.state.services["storage"],
            "NUAGE_SCHEDULER_HEARTBEAT_INTERVAL": "0.5",
            "NUAGE_SCHEDULER_PULL_INTERVAL": "0.5",
            "NUAGE_SCHEDULER_TICK_INTERVAL": "0.3",
        }

    def _deploy_trivial_app(self) -> str:
        source = self.home / "trivial"
        source.mkdir()
        (source / "main.py").write_text(TRIVIAL_APP)
        (source / "nuage-app.toml").write_text(TRIVIAL_MANIFEST)
        bundle = build(source, self.home / "trivial.zip")
        with StorageClient(self.state.services["storage"]) as storage:
            storage.put_file(bundle.path)
        app, _ = self.contracts.register_app(
            self.app_owner, "trivial", bytes.fromhex(bundle.sha256)
        )
        return app

    def _start_scheduler(self) -> str:
        port = free_port()
        command = [
            sys.executable, "-m", "nuage.scheduler", "serve",
            "--workerpool", self.workerpool, "--as", "pool-owner", "--port", str(port),
        ]  # fmt: skip
        log = self.home / "logs" / "scheduler.log"
        daemon = spawn("scheduler", command, log, env=self._env())
        self.daemons.append(daemon)
        wait_until_healthy(daemon, port, "/health", timeout=60)
        return f"http://127.0.0.1:{port}"

    def _start_worker(self, n: int, mode: str) -> None:
        command = [
            sys.executable, "-m", "nuage.worker", "start",
            "--scheduler", self.scheduler_url, "--as", f"worker-{n}", "--mode", mode,
            "--data-dir", str(self.home / f"worker-{n}"),
        ]  # fmt: skip
        log = self.home / "logs" / f"worker-{n}.log"
        self.daemons.append(spawn(f"worker-{n}", command, log, env=self._env()))

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self._check_daemons()
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                health = httpx.get(f"{self.scheduler_url}/health", timeout=2).json()
                if int(health["summary"]["workers"]["alive"]) >= self.workers:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"the workers did not log in within 120 s: {self._logs()}")

    def _check_daemons(self) -> None:
        for daemon in self.daemons:
            reason = daemon.exit_reason()
            if reason is not None:
                raise RuntimeError(f"{daemon.name} exited: {reason}")

    def _logs(self) -> str:
        return "; ".join(
            f"{p.name}: {p.read_text()[-1500:]}" for p in sorted((self.home / "logs").glob("*"))
        )

    def worker_addresses(self) -> tuple[list[str], list[str]]:
        """(honest workers, saboteurs)."""
        addresses = [
            str(self.state.account(f"worker-{n}").address) for n in range(1, self.workers + 1)
        ]
        return addresses[self.saboteurs :], addresses[: self.saboteurs]

    def buy(self, tasks: int, deal_size: int = DEVNET_DEAL_SIZE) -> None:
        """Match deals of the trivial app at `trust` until `tasks` more tasks are bought."""
        domain = Domain(
            chain_id=self.chain.chain_id, verifying_contract=self.state.deployment.market
        )
        left = tasks
        while left > 0:
            volume = min(deal_size, left)
            salt = keccak(text=f"trust bench deal {len(self.task_ids)}")
            orders = (
                AppOrder(app=self.app, appprice=0, volume=volume, salt=salt).signed(
                    self.app_owner.key, domain
                ),
                DatasetOrder.none(),
                WorkerpoolOrder(
                    workerpool=self.workerpool,
                    workerpoolprice=self.price,
                    volume=volume,
                    trust=self.trust,
                    salt=salt,
                ).signed(self.pool_owner.key, domain),
                RequestOrder(
                    app=self.app,
                    requester=self.requester.address,
                    appmaxprice=0,
                    workerpoolmaxprice=self.price,
                    volume=volume,
                    trust=self.trust,
                    salt=salt,
                ).signed(self.requester.key, domain),
            )
            receipt = self.chain.transact(
                self.contracts.market.functions.matchOrders(*(o.as_tuple() for o in orders)),
                self.requester,
            )
            (created,) = self.hub.deals_created(receipt)
            self.task_ids.extend(created.deal.task_ids(created.deal_id))
            left -= volume

    def outcome(self, index: int) -> TaskOutcome | None:
        """The task's outcome once consensus is reached or it stalled; None while it runs."""
        task = self.task_ids[index]
        view = self.hub.task(task)
        lie = result_hash(task, keccak(b"nuage colluding" + task))
        reached = view.consensus_value != bytes(32)
        stalled = view.status == TaskStatus.ACTIVE and view.contributors >= self.workers
        if not reached and not stalled:
            return None
        return TaskOutcome(
            index=index,
            task_id="0x" + task.hex(),
            status=TaskStatus.NAMES[view.status],
            contributions=view.contributors,
            wrong=reached and view.consensus_value == lie,
            stalled=stalled and not reached,
        )

    def follow(self, budget_s: float) -> tuple[list[TaskOutcome], float]:
        """Watch every bought task until all ended or `budget_s` passed: (outcomes, seconds)."""
        started = time.monotonic()
        outcomes: dict[int, TaskOutcome] = {}
        last_report = 0.0
        while len(outcomes) < len(self.task_ids):
            self._check_daemons()
            for index in range(len(self.task_ids)):
                if index not in outcomes:
                    found = self.outcome(index)
                    if found is not None:
                        outcomes[index] = found
            elapsed = time.monotonic() - started
            if elapsed - last_report >= 30:
                last_report = elapsed
                stalled = sum(o.stalled for o in outcomes.values())
                self.log(
                    f"  {elapsed:.0f} s: {len(outcomes)}/{len(self.task_ids)} tasks ended "
                    f"({stalled} stalled, {sum(o.wrong for o in outcomes.values())} wrong)"
                )
            if elapsed > budget_s:
                break
            time.sleep(2)
        return [outcomes[i] for i in sorted(outcomes)], time.monotonic() - started

    def one_by_one(self, tasks: int, budget_s: float) -> tuple[list[TaskOutcome], float]:
        """Buy one task, wait until it ended (and was finalized: scores move then), buy the next.

        `tasks` tasks or `budget_s` seconds, whichever comes first: (outcomes, seconds).
        """
        started = time.monotonic()
        outcomes: list[TaskOutcome] = []
        last_report = 0.0
        while len(outcomes) < tasks and time.monotonic() - started < budget_s:
            self.buy(1)
            index = len(self.task_ids) - 1
            outcome = self._wait(partial(self.outcome, index), 120, f"task {index} to end")
            if not outcome.stalled:
                self._wait(partial(self._completed, index), 120, f"task {index} to be finalized")
                outcome.status = "COMPLETED"
            outcomes.append(outcome)
            elapsed = time.monotonic() - started
            if elapsed - last_report >= 30:
                last_report = elapsed
                self.log(
                    f"  {elapsed:.0f} s: {len(outcomes)}/{tasks} tasks ended "
                    f"({sum(o.stalled for o in outcomes)} stalled, "
                    f"{sum(o.wrong for o in outcomes)} wrong)"
                )
        return outcomes, time.monotonic() - started

    def _completed(self, index: int) -> bool | None:
        return self.hub.task(self.task_ids[index]).status == TaskStatus.COMPLETED or None

    def _wait(self, found: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = found()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}: {self._logs()}")
            self._check_daemons()
            time.sleep(0.1)

    def contribution_order(self, task: bytes) -> list[str]:
        """The workers that contributed to `task`, in the order the chain recorded them."""
        logs = self.hub.contract.events.TaskContributed().get_logs(
            from_block=self.state.deployment.block, argument_filters={"task_id": task}
        )
        return [str(entry["args"]["worker"]) for entry in logs]

    def scores(self) -> tuple[list[int], list[int]]:
        honest, saboteurs = self.worker_addresses()
        return [self.hub.score(a) for a in honest], [self.hub.score(a) for a in saboteurs]


@contextlib.contextmanager
def sabotage_devnet(**options: Any) -> Iterator[SabotageDevnet]:
    net = SabotageDevnet(**options)
    try:
        net.up()
        yield net
    finally:
        net.close()


def run_devnet(tasks: int, budget_s: float, *, concurrent: bool = False) -> dict[str, Any]:
    """The devnet run, measured: what `judge_devnet` compares with the simulator."""
    started = time.monotonic()
    with sabotage_devnet() as net:
        setup_s = time.monotonic() - started
        if concurrent:
            net.buy(tasks)
            net.log(f"bought {tasks} tasks at trust {net.trust}; following them")
            outcomes, seconds = net.follow(budget_s)
        else:
            net.log(f"{tasks} tasks at trust {net.trust}, one at a time")
            outcomes, seconds = net.one_by_one(tasks, budget_s)
        time.sleep(3)  # the last finalizations land
        honest_scores, saboteur_scores = net.scores()
        _, saboteurs = net.worker_addresses()
        orders = [net.contribution_order(net.task_ids[o.index]) for o in outcomes]
        bought = len(net.task_ids)
    if not outcomes:
        raise RuntimeError("no task ended within the budget")
    first_wave = contributions_for_trust(DEVNET_TRUST)
    how = (
        f"all {tasks} tasks bought at once, in deals of {DEVNET_DEAL_SIZE}: the pool works on "
        "several tasks at a time, as it does under load"
        if concurrent
        else "one task at a time: each bought once the previous one ended (and, at consensus, "
        "was finalized, so scores moved), as the simulator runs them"
    )
    return {
        "meta": {
            "setup": (
                f"`nuage devnet up --no-pool --workers {DEVNET_WORKERS}` (automine anvil, "
                "storage, market) in a temporary home; its own scheduler and one process per "
                f"worker, {len(saboteurs)} of them `--mode colluding` (they all vote one wrong "
                f"digest per task: s = 1); a trivial app (writes 'ok') at trust {DEVNET_TRUST}, "
                f"{SabotageDevnet.price / NRLC:g} RLC per task; all workers fresh (score 0)"
            ),
            "tasks": how,
            "ended": (
                "a task ended when the hub reached consensus (wrong when it is the colluders' "
                "result) or when it stalled: every worker contributed and no group reached "
                "consensus (such a task fails at its final deadline)"
            ),
            "setup_seconds": round(setup_s, 1),
            "run_seconds": round(seconds, 1),
            "budget_seconds": budget_s,
            **_machine(),
        },
        "tasks_bought": bought,
        "tasks_ended": len(outcomes),
        "all_tasks_ended": len(outcomes) == tasks,
        "scores_at_end": {"honest": honest_scores, "saboteurs": saboteur_scores},
        "tasks": [
            {
                "index": o.index,
                "status": o.status,
                "contributions": o.contributions,
                "wrong": o.wrong,
                "stalled": o.stalled,
                "first_contributor_saboteur": bool(order) and order[0] in saboteurs,
                "saboteurs_in_first_wave": sum(w in saboteurs for w in order[:first_wave]),
            }
            for o, order in zip(outcomes, orders, strict=True)
        ],
    }


def judge_devnet(record: dict[str, Any], runs: int = PREDICTION_RUNS) -> dict[str, Any]:
    """Compare a measured devnet run with the simulator's prediction of the same pool.

    Adds to `record`: the measured figures, the middle 95% of `runs` simulated runs of the
    same pool and length, whether each figure falls inside, and how the pool's first
    contributions were drawn (the simulator draws them at random).
    """
    tasks = record["tasks"]
    ended = len(tasks)
    honest = record["scores_at_end"]["honest"]
    saboteurs = record["scores_at_end"]["saboteurs"]
    measured = {
        "error_rate": sum(t["wrong"] for t in tasks) / ended,
        "redundancy": sum(t["contributions"] for t in tasks) / ended,
        "stalled_rate": sum(t["stalled"] for t in tasks) / ended,
        "honest_score": sum(honest) / len(honest),
        "saboteur_score": sum(saboteurs) / max(len(saboteurs), 1),
    }
    scenario = Scenario(
        bad_fraction=DEVNET_BAD_FRACTION,
        lie_probability=1.0,
        trust=DEVNET_TRUST,
        tasks=ended,
        workers=DEVNET_WORKERS,
    )
    prediction = predict(scenario, runs=runs)
    intervals = {
        "error_rate": prediction.error_rate,
        "redundancy": prediction.redundancy,
        "stalled_rate": prediction.stalled_rate,
        "honest_score": prediction.honest_score,
        "saboteur_score": prediction.saboteur_score,
    }
    agrees = {name: measured[name] in interval for name, interval in intervals.items()}
    first_wave = contributions_for_trust(DEVNET_TRUST)
    # while every worker is fresh a task takes >= 7 contributions; the first one finished with
    # fewer marks heavier votes, after which the first 7 contributions are no wave any more
    fresh = next(
        (i for i, t in enumerate(tasks) if not t["stalled"] and t["contributions"] < first_wave),
        ended,
    )
    clean = sum(t["saboteurs_in_first_wave"] == 0 for t in tasks[:fresh])
    first_saboteur = [
        t["first_contributor_saboteur"] for t in tasks if "first_contributor_saboteur" in t
    ]
    judged = _measurement(record)
    judged.update(
        {
            "agreement": (
                f"the simulator runs the same pool ({DEVNET_WORKERS} workers, "
                f"{round(DEVNET_BAD_FRACTION * DEVNET_WORKERS)} colluding, trust {DEVNET_TRUST}) "
                f"over the same {ended} tasks with {runs} seeds; each measured figure must lie "
                "in the middle 95% of the simulated runs (`simulated`)"
            ),
            "wrong": sum(t["wrong"] for t in tasks),
            "stalled": sum(t["stalled"] for t in tasks),
            "measured": {name: round(value, 6) for name, value in measured.items()},
            "simulated": {name: interval.to_json() for name, interval in intervals.items()},
            "agrees": agrees,
            "all_agree": all(agrees[name] for name in ("error_rate", "redundancy")),
            "all_figures_agree": all(agrees.values()),
            "who_contributes_first": {
                "note": (
                    f"the simulator hands a task's replicates to workers in a random order: "
                    f"the first {first_wave} contributions of a fresh task hold no saboteur "
                    f"with probability C(8,7)/C(10,7) = 1/15, and the first contribution is a "
                    f"saboteur's with probability {DEVNET_BAD_FRACTION:g}; counted over the "
                    f"tasks before the first that needed fewer than {first_wave} contributions"
                ),
                "fresh_tasks": fresh,
                "first_waves_without_saboteur": clean,
                "share": round(clean / fresh, 4) if fresh else None,
                "random_order_expects": round(1 / 15, 4),
                "first_contributor_saboteur_share": (
                    round(sum(first_saboteur) / len(first_saboteur), 4) if first_saboteur else None
                ),
            },
        }
    )
    return judged


def _measurement(record: dict[str, Any]) -> dict[str, Any]:
    """What `run_devnet` measured, without any earlier judgement of it."""
    meta = {k: v for k, v in record["meta"].items() if k not in ("agreement", "first_wave")}
    scores = record["scores_at_end"]
    return {
        "meta": meta,
        "tasks_bought": record["tasks_bought"],
        "tasks_ended": record["tasks_ended"],
        "all_tasks_ended": record["all_tasks_ended"],
        "scores_at_end": {"honest": scores["honest"], "saboteurs": scores["saboteurs"]},
        "tasks": record["tasks"],
    }


# -- the file ----------------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def _update(path: Path, section: str, value: dict[str, Any]) -> dict[str, Any]:
    current: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError):
            current = json.loads(path.read_text())
    current[section] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n")
    return current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--devnet", action="store_true", help="the devnet run instead of the simulated grid"
    )
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="compare the recorded devnet runs with the simulator again, without running them",
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="with --devnet: buy every task at once (section devnet_concurrent)",
    )
    parser.add_argument("--tasks", type=int, help="tasks per grid cell, or bought on the devnet")
    parser.add_argument(
        "--budget", type=float, default=DEVNET_BUDGET_S, help="seconds the devnet run may take"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="grid processes")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"where to write the JSON (default {RESULTS})"
    )
    options = parser.parse_args()
    if options.rejudge:
        recorded = json.loads(options.out.read_text())
        shown = {}
        for section in ("devnet", "devnet_concurrent"):
            if section in recorded:
                report = judge_devnet(recorded[section])
                _update(options.out, section, report)
                shown[section] = {k: v for k, v in report.items() if k != "tasks"}
    elif options.devnet:
        report = judge_devnet(
            run_devnet(options.tasks or DEVNET_TASKS, options.budget, concurrent=options.concurrent)
        )
        _update(options.out, "devnet_concurrent" if options.concurrent else "devnet", report)
        shown = {k: v for k, v in report.items() if k != "tasks"}
    else:
        report = run_grid(options.tasks or GRID_TASKS, options.jobs)
        _update(options.out, "grid", report)
        shown = {"meta": report["meta"], "summary": report["summary"]}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    main()
