"""bench/results/SUMMARY.md: every goal, the measured value and whether it is met.

Reads whatever `bench/results/*.json` holds (gas, chain, market, throughput, latency, scale,
trust) and writes one table of goals, then one section per benchmark. A file that is absent is
said to be absent; a figure with no goal set is shown with "no goal set". Any results file may
also carry its own goals as a top-level list, which the table takes as they are:

    "goals": [{"goal": "error rate <= 1/trust at f=0.2, s=1, trust=100",
               "measured": "0.004", "met": true}]

Run: `python -m bench.summary [--results DIR] [--out PATH] [--timings PATH]` (`make bench` runs
it last, with how long each step took).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
GOAL_RATIO = 0.5  # throughput: the protocol keeps at least half of the bare sandbox's rate
# iExec's function -> nuage's, for the gas comparison (iExec averages from SPEC §3)
GAS_FUNCTIONS = {
    "matchOrders": "Market.matchOrders",
    "initialize": "Hub.initialize",
    "contribute": "Hub.contribute",
    "reveal": "Hub.reveal",
    "finalize": "Hub.finalize",
    "contributeAndFinalize": "Hub.contributeAndFinalize",
    "claim": "Hub.claim",
}
NO_GOAL = "no goal set"


@dataclass(frozen=True)
class Goal:
    """One line of the goals table."""

    area: str
    goal: str
    measured: str
    met: bool | None  # None: nothing to judge (no goal, or not measured)

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**not met**", None: "-"}[self.met]


def load_results(directory: Path) -> dict[str, dict[str, Any]]:
    """{file stem: its JSON} for every readable `*.json` in `directory`."""
    results = {}
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(raw, dict):
            results[path.stem] = raw
    return results


def _int(value: float) -> str:
    return f"{round(value):,}"


def _get(raw: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(raw, dict) or key not in raw:
            return None
        raw = raw[key]
    return raw


# -- goals, one function per benchmark --------------------------------------------------------


def gas_goals(gas: dict[str, Any]) -> list[Goal]:
    iexec = _get(gas, "reference", "iexec_poco_average") or {}
    functions = gas.get("functions", {})
    scenarios = gas.get("scenarios", {})
    goals = []
    for theirs, ours in GAS_FUNCTIONS.items():
        avg = _get(functions, ours, "avg")
        if theirs in iexec and avg:
            goals.append(_cheaper(f"`{ours}` (avg)", iexec[theirs], avg))
    create = _get(functions, "AppRegistry.createApp", "avg")
    if create and "create_asset_low" in iexec:
        goals.append(_cheaper("`AppRegistry.createApp` (avg)", iexec["create_asset_low"], create))
    single = scenarios.get("single_task_trust1")
    if single and {"matchOrdersBoost", "pushResultBoost"} <= iexec.keys():
        boost = iexec["matchOrdersBoost"] + iexec["pushResultBoost"]
        goals.append(_cheaper("one task at trust 1, match + result (vs Boost)", boost, single))
    return goals


def _cheaper(what: str, theirs: int, ours: int) -> Goal:
    ratio = theirs / ours
    return Goal(
        "gas",
        f"{what}: cheaper than iExec's {_int(theirs)} (ratio iExec / nuage > 1)",
        f"{_int(ours)} gas, ratio {ratio:.2f}",
        ratio > 1,
    )


def market_goals(market: dict[str, Any]) -> list[Goal]:
    goals = []
    for database in ("sqlite", "postgres"):
        section = market.get(database)
        if not isinstance(section, dict):
            continue
        if "skipped" in section:
            goals.append(Goal("market", f"{database}: {NO_GOAL}", "skipped", None))
            continue
        figures = [
            f"{kind} {section[kind]['rps']:,} req/s (p99 {section[kind]['p99_ms']} ms)"
            for kind in ("publish", "query", "explain")
            if isinstance(section.get(kind), dict)
        ]
        orders = _get(market, "meta", "orders_in_book")
        book = f", {orders:,} orders in the book" if isinstance(orders, int) else ""
        goals.append(
            Goal(
                "market",
                f"{database}{book}: {NO_GOAL}",
                "; ".join(figures),
                None,
            )
        )
    return goals


def chain_goals(chain: dict[str, Any]) -> list[Goal]:
    scenarios = chain.get("scenarios", {})
    figures = [f"{name.replace('_', ' ')} {s['tx_per_s']} tx/s" for name, s in scenarios.items()]
    latency = chain.get("deposit_latency_ms", {})
    if latency:
        figures.append(f"one deposit p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms")
    return [Goal("chain sender", f"automine anvil: {NO_GOAL}", "; ".join(figures), None)]


def throughput_goals(throughput: dict[str, Any]) -> list[Goal]:
    pipeline, bare = throughput.get("pipeline", {}), throughput.get("bare", {})
    ratio = throughput.get("ratio")
    goal = _get(throughput, "goal", "ratio_at_least") or GOAL_RATIO
    measured = (
        f"{pipeline.get('tasks_per_s')} tasks/s end to end ({pipeline.get('finalized')} of "
        f"{pipeline.get('tasks')} tasks, {pipeline.get('workers')} workers, "
        f"{pipeline.get('seconds')} s) vs {bare.get('tasks_per_s')} tasks/s bare: "
        f"ratio {ratio}"
    )
    # a bag that did not finish is not met whatever its rate
    complete = pipeline.get("finalized") == pipeline.get("tasks")
    met = None if ratio is None else ratio >= goal and complete
    return [
        Goal(
            "throughput",
            f"pipeline / bare sandbox, same parallelism, >= {goal}",
            measured,
            met,
        )
    ]


def latency_goals(latency: dict[str, Any]) -> list[Goal]:
    goals = []
    for mode, label in (("automine", "automine"), ("block_time_1s", "1-second blocks")):
        section = latency.get(mode)
        if isinstance(section, dict):
            goals.append(
                Goal(
                    "latency",
                    f"one task, request -> result, {label}: {NO_GOAL}",
                    f"p50 {section['p50_s']} s, p95 {section['p95_s']} s ({section['runs']} runs)",
                    None,
                )
            )
    return goals


def scale_goals(scale: dict[str, Any]) -> list[Goal]:
    table = scale.get("tasks_per_s", {})
    if not table:
        return []
    best = max(
        ((rate, w, t) for w, row in table.items() for t, rate in row.items() if rate),
        default=None,
    )
    measured = f"{len(scale.get('cells', []))} cells, {len(scale.get('capped', []))} capped"
    if best is not None:
        measured += f"; best {best[0]} tasks/s ({best[1]} workers, {best[2]} tasks)"
    return [Goal("scale", f"tasks/s over workers x deal sizes: {NO_GOAL}", measured, None)]


def listed_goals(name: str, raw: dict[str, Any]) -> list[Goal]:
    """The goals a results file lists itself (`"goals": [...]`)."""
    goals = []
    for entry in raw.get("goals", []) if isinstance(raw.get("goals"), list) else []:
        if isinstance(entry, dict) and "goal" in entry:
            met = entry.get("met")
            goals.append(
                Goal(
                    name,
                    str(entry["goal"]),
                    str(entry.get("measured", "")),
                    met if isinstance(met, bool) else None,
                )
            )
    return goals


def trust_goals(trust: dict[str, Any] | None) -> list[Goal]:
    """trust.json as bench.trust writes it: a simulated `grid` and a `devnet` run."""
    if trust is None:
        return [
            Goal(
                "trust",
                "error rate <= 1/trust; a devnet with saboteurs agrees with the simulator",
                "not measured: bench/results/trust.json is absent",
                None,
            )
        ]
    goals = listed_goals("trust", trust)
    grid = _get(trust, "grid", "summary")
    if isinstance(grid, dict) and "cells" in grid and "goal_met" in grid:
        worst = grid.get("worst_error_over_goal") or {}
        error = _get(worst, "error_rate", "value")
        measured = f"{grid['goal_met']} of {grid['cells']} cells"
        if error is not None:
            measured += f"; worst {_scenario(worst.get('scenario'))}: error {error} vs goal "
            measured += str(worst.get("goal_error"))
        goals.append(
            Goal(
                "trust",
                "simulated error rate <= 1/trust for every f, s, trust of the grid",
                measured,
                grid["goal_met"] == grid["cells"],
            )
        )
        if "binomial_formula_matched" in grid:
            matched = bool(grid["binomial_formula_matched"])
            goals.append(
                Goal(
                    "trust",
                    "simulated m-first voting matches eps(M, phi) within sampling error",
                    "inside the 95% interval" if matched else "outside the 95% interval",
                    matched,
                )
            )
    run = trust.get("devnet")
    if isinstance(run, dict) and "all_agree" in run:
        measured = run.get("measured", {})
        agrees = run.get("agrees", {})
        outside = [name for name, inside in agrees.items() if not inside]
        verdict = f"outside the simulated 95%: {', '.join(outside)}" if outside else "all inside"
        goals.append(
            Goal(
                "trust",
                "devnet with saboteurs (f = 0.2, s = 1, trust 100) agrees with the simulator",
                f"{run.get('tasks_ended')} of {run.get('tasks_bought')} tasks ended; "
                + ", ".join(f"{name} {value}" for name, value in measured.items())
                + f"; {verdict}",
                bool(run["all_agree"]) and bool(run.get("all_tasks_ended", True)),
            )
        )
    if not goals:
        goals.append(
            Goal(
                "trust",
                "error rate <= 1/trust; a devnet with saboteurs agrees with the simulator",
                "bench/results/trust.json holds nothing this summary reads: see the file",
                None,
            )
        )
    return goals


def _scenario(scenario: object) -> str:
    if not isinstance(scenario, dict):
        return str(scenario)
    names = {"bad_fraction": "f", "lie_probability": "s", "trust": "trust"}
    return ", ".join(f"{short}={scenario[key]}" for key, short in names.items() if key in scenario)


GOALS: dict[str, Callable[[dict[str, Any]], list[Goal]]] = {
    "gas": gas_goals,
    "market": market_goals,
    "chain": chain_goals,
    "throughput": throughput_goals,
    "latency": latency_goals,
    "scale": scale_goals,
}


def all_goals(results: dict[str, dict[str, Any]]) -> list[Goal]:
    goals: list[Goal] = []
    for name, reader in GOALS.items():
        if name in results:
            goals += reader(results[name]) + listed_goals(name, results[name])
        else:
            goals.append(
                Goal(name, "-", f"not measured: bench/results/{name}.json is absent", None)
            )
    goals += trust_goals(results.get("trust"))
    for name, raw in results.items():
        if name not in GOALS and name != "trust":
            goals += listed_goals(name, raw)
    return goals


# -- the page --------------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render(results: dict[str, dict[str, Any]], timings: dict[str, Any] | None = None) -> str:
    goals = all_goals(results)
    met = sum(g.met is True for g in goals)
    judged = sum(g.met is not None for g in goals)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m bench.summary` from `bench/results/*.json` (`make bench` "
        "measures and writes them all). Figures are measured, never extrapolated.",
        "",
    ]
    if timings:
        lines += _timings(timings)
    lines += [
        f"## Goals: {met} of {judged} met",
        "",
        *table(
            ["area", "goal", "measured", "verdict"],
            [[g.area, g.goal, g.measured, g.verdict] for g in goals],
        ),
        "",
    ]
    if "throughput" in results:
        lines += _throughput_section(results["throughput"])
    if "latency" in results:
        lines += _latency_section(results["latency"])
    if "scale" in results:
        lines += _scale_section(results["scale"])
    lines += _machines(results)
    return "\n".join(lines).rstrip() + "\n"


def _timings(timings: dict[str, Any]) -> list[str]:
    steps = timings.get("steps", {})
    rows = [[name, f"{s['seconds']:.0f} s", s.get("status", "")] for name, s in steps.items()]
    total = timings.get("total_s")
    lines = []
    if total is not None:
        lines += [f"`make bench` took {total / 60:.1f} minutes.", ""]
    if rows:
        lines += [*table(["step", "time", "status"], rows), ""]
    return lines


def _places(where: dict[str, Any] | None) -> str:
    places = (where or {}).get("places", {})
    return ", ".join(f"{name} {share:.0%}" for name, share in places.items())


def _throughput_section(throughput: dict[str, Any]) -> list[str]:
    pipeline = throughput.get("pipeline", {})
    stages = pipeline.get("stage_times", {})
    lines = [
        "## Throughput",
        "",
        f"{pipeline.get('tasks')} tasks at trust 1, {pipeline.get('workers')} workers, "
        f"{pipeline.get('deals')} deal(s): {pipeline.get('tasks_per_s')} tasks/s end to end; "
        f"the same executions bare in the sandbox: "
        f"{_get(throughput, 'bare', 'tasks_per_s')} tasks/s; ratio {throughput.get('ratio')} "
        f"(goal >= {_get(throughput, 'goal', 'ratio_at_least')}).",
        "",
        f"Where the workers' time went: {_places(throughput.get('where_the_time_goes'))}.",
        "",
    ]
    cpu = throughput.get("cpu_ms_per_task")
    if isinstance(cpu, dict) and isinstance(cpu.get("pipeline"), dict):
        parts = sorted(cpu["pipeline"].items(), key=lambda item: -item[1])
        lines += [
            f"CPU per task: {cpu.get('pipeline_total')} ms through the pipeline ("
            + ", ".join(f"{name} {ms}" for name, ms in parts)
            + f") vs {cpu.get('bare_total')} ms bare.",
            "",
        ]
    if stages:
        lines += table(
            ["step of a task", "mean ms", "p50 ms"],
            [[name, s["mean_ms"], s["p50_ms"]] for name, s in stages.items()],
        )
        lines.append("")
    return lines


def _latency_section(latency: dict[str, Any]) -> list[str]:
    rows = []
    for mode in ("automine", "block_time_1s"):
        section = latency.get(mode)
        if isinstance(section, dict):
            phases = section.get("phases_p50_s", {})
            rows.append(
                [
                    mode.replace("_", " "),
                    section.get("runs"),
                    section.get("p50_s"),
                    section.get("p95_s"),
                    ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in phases.items()),
                ]
            )
    if not rows:
        return []
    return [
        "## Latency (one task, request -> result)",
        "",
        *table(["chain", "runs", "p50 s", "p95 s", "phases, p50 s"], rows),
        "",
    ]


def _scale_section(scale: dict[str, Any]) -> list[str]:
    table_data = scale.get("tasks_per_s", {})
    sizes = sorted({int(t) for row in table_data.values() for t in row} | _capped_sizes(scale))
    capped = {(c["workers"], c["tasks"]) for c in scale.get("capped", [])}
    rows: list[list[object]] = []
    for workers in sorted({int(w) for w in table_data} | {w for w, _ in capped}):
        row: list[object] = [workers]
        for size in sizes:
            rate = table_data.get(str(workers), {}).get(str(size))
            row.append(
                rate if rate is not None else ("capped" if (workers, size) in capped else "-")
            )
        rows.append(row)
    lines = [
        "## Scale (tasks/s)",
        "",
        *table(["workers \\ tasks", *map(str, sizes)], rows),
        "",
    ]
    where = [
        [
            cell["workers"],
            cell["tasks"],
            _places(cell.get("where_the_time_goes")),
            _get(cell, "cpu", "total_ms_per_task") or "-",
        ]
        for cell in scale.get("cells", [])
        if cell.get("where_the_time_goes")
    ]
    if where:
        lines += [
            "Where the workers' time went (shares of workers x elapsed), and the CPU the "
            "devnet's processes used per task (sandboxed apps not included):",
            "",
            *table(["workers", "tasks", "places", "CPU ms per task"], where),
            "",
        ]
    missing = scale.get("missing_instrumentation", [])
    if missing:
        lines += ["Timing the services do not give yet:", "", *(f"- {m}" for m in missing), ""]
    return lines


def _capped_sizes(scale: dict[str, Any]) -> set[int]:
    return {int(c["tasks"]) for c in scale.get("capped", [])}


def _machines(results: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for name, raw in results.items():
        meta = raw.get("meta", {}) if isinstance(raw.get("meta"), dict) else {}
        load = meta.get("load_average_after") or meta.get("load_average_1m_at_end")
        rows.append([name, meta.get("machine", "-"), load if load is not None else "-"])
    if not rows:
        return []
    return [
        "## Where they ran",
        "",
        *table(["results", "machine", "load average at the end"], rows),
        "",
    ]


def write_summary(
    directory: Path = RESULTS, out: Path | None = None, timings: dict[str, Any] | None = None
) -> Path:
    out = out or directory / "SUMMARY.md"
    out.write_text(render(load_results(directory), timings))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON files are")
    parser.add_argument("--out", type=Path, default=None, help="default: RESULTS/SUMMARY.md")
    parser.add_argument(
        "--timings", type=Path, default=None, help="how long each step took (JSON from make bench)"
    )
    options = parser.parse_args()
    timings = json.loads(options.timings.read_text()) if options.timings else None
    print(write_summary(options.results, options.out, timings).read_text())


if __name__ == "__main__":
    main()
