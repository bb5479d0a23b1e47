"""`nuage trust`: how often a pool accepts a wrong result, and what trust to ask for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nuage.cli._common import JsonOption, amount, out, print_json, waiting

if TYPE_CHECKING:
    from nuage.trust import Plan

app = typer.Typer(
    name="trust",
    help="""Sabotage tolerance: what the trust of a deal buys against workers who lie.

A task at **trust T** is replicated until the workers who agree weigh enough: a worker's weight
grows with its score (+1 each time it wins a replicated task, a third lost each time it is
outvoted), and consensus needs their credibility above `1 - 1/T`. So a result should be wrong
at most once in T tasks, with fewer replicas as a pool's honest workers build reputation.

`simulate` measures it: a pool with a fraction of saboteurs who collude (they all return the
same wrong result) and lie with some probability, run through the scheduler's own replication
decision and the hub's consensus rule. It compares with **m-first voting**, the textbook
scheme that accepts the first result M replicas agree on. `plan` picks the trust to ask for.

```
nuage trust simulate --bad-fraction 0.2 --lie-probability 1 --trust 100 --tasks 10000
nuage trust simulate -f 0.3 -s 0.1 --trust 10 --m-first 3 --json
nuage trust plan --bad-fraction 0.2 --target-error 0.001 --price 1
```""",
    no_args_is_help=True,
)

BadFraction = Annotated[
    float,
    typer.Option(
        "--bad-fraction",
        "-f",
        min=0.0,
        max=1.0,
        metavar="F",
        help="The fraction of the pool's workers that are saboteurs, e.g. 0.2.",
    ),
]
Workers = Annotated[
    int,
    typer.Option(min=1, help="Workers in the pool; round(F * workers) of them are saboteurs."),
]
Seed = Annotated[int, typer.Option(help="The random seed: the same seed, the same figures.")]


@app.command("simulate")
def simulate_command(
    bad_fraction: BadFraction,
    lie_probability: Annotated[
        float,
        typer.Option(
            "--lie-probability",
            "-s",
            min=0.0,
            max=1.0,
            metavar="S",
            help="How often a saboteur lies (returns the colluders' wrong result).",
        ),
    ] = 1.0,
    trust: Annotated[
        int, typer.Option(min=0, help="The deal's trust: the goal is at most 1 error per T tasks.")
    ] = 100,
    tasks: Annotated[int, typer.Option(min=1, help="Tasks to run, one after another.")] = 10_000,
    workers: Workers = 100,
    m_first: Annotated[
        int | None,
        typer.Option(
            "--m-first",
            metavar="M",
            min=1,
            help="Also simulate m-first voting with this M, and check it against the formula.",
        ),
    ] = None,
    eager_saboteurs: Annotated[
        bool,
        typer.Option(
            "--eager-saboteurs",
            help="Saboteurs ask for work first and contribute first (they need not compute): "
            "they hold the first replicates of every task.",
        ),
    ] = False,
    seed: Seed = 0,
    as_json: JsonOption = False,
) -> None:
    """Run a pool with saboteurs through the pool's replication policy; print what it accepted.

    Every pool starts fresh (all scores 0) and runs the tasks one after another; workers ask
    for work in a random order and get a replicate while the scheduler's own decision says the
    task needs one (counting the replicates still running as agreeing with the best result).
    Prints:

    - **error rate**: wrong results accepted / tasks, with its 95% interval; the goal is
      at most 1/trust.
    - **redundancy**: contributions per task (the replicas the pool ran and counted).
    - **stalled**: tasks with no consensus after every worker contributed (they fail at their
      deadline and are refunded): a pool too small for its trust.
    - **m-first**: the smallest M whose error eps(M, F*S) is at most the measured one, and the
      replicas it needs for that; with no error seen, the measured rate's upper bound is the
      target.
    - **reputation**: the honest workers' and the saboteurs' mean scores as tasks go by.

    With **--eager-saboteurs** the saboteurs are served first: the scheduler gives a task's
    replicates to whoever asks first, and a colluder that does not compute asks again at once.
    When they are as many as the replicas a fresh task needs, they decide it.
    """
    from nuage.trust import Scenario, m_first_matching, simulate, simulate_m_first

    scenario = Scenario(
        bad_fraction=bad_fraction,
        lie_probability=lie_probability,
        trust=trust,
        tasks=tasks,
        workers=workers,
        seed=seed,
        eager=eager_saboteurs,
    )
    with waiting(f"simulating {tasks:,} tasks at trust {trust}…"):
        run = simulate(scenario)
        phi = bad_fraction * lie_probability
        matching = m_first_matching(run.error_rate, run.wrong, phi)
        baseline = (
            None
            if m_first is None
            else simulate_m_first(
                bad_fraction=bad_fraction,
                lie_probability=lie_probability,
                m=m_first,
                tasks=tasks,
                seed=seed,
            )
        )
    if as_json:
        report = run.to_json()
        report["m_first_same_error"] = matching.to_json()
        if baseline is not None:
            report["m_first"] = baseline.to_json()
        print_json(report)
        return
    out.print(
        f"pool of {workers} workers, {scenario.saboteurs} saboteurs colluding"
        + (" and served first" if eager_saboteurs else "")
        + ", lying "
        f"{lie_probability:.0%} of the time (phi = {phi:g}); trust {trust}; "
        f"{tasks:,} tasks; seed {seed}"
    )
    table = Table(box=None, show_header=False)
    error = run.error_rate
    verdict = "[green]met[/]" if error.value <= run.goal else "[red]not met[/]"
    table.add_row(
        "error rate",
        f"{error.value:.3g} ({run.wrong:,} wrong of {tasks:,}; 95%: {error.low:.2g}-"
        f"{error.high:.2g}); goal ≤ {run.goal:.3g}: {verdict}",
    )
    redundancy = run.redundancy
    table.add_row(
        "redundancy",
        f"{redundancy.value:.3g} contributions per task (95%: {redundancy.low:.3g}-"
        f"{redundancy.high:.3g}); {run.assigned:.3g} replicates handed out",
    )
    table.add_row(
        "stalled", f"{run.stalled:,} tasks ({run.stalled_rate.value:.2%}) without consensus"
    )
    if matching.m is None or matching.replicas is None:
        table.add_row("m-first", f"cannot reach {matching.target_error:.2g} at phi = {phi:g}")
    else:
        bound = "the upper bound " if matching.upper_bound else ""
        table.add_row(
            "m-first",
            f"M = {matching.m} reaches {bound}{matching.target_error:.2g} with "
            f"{matching.replicas:.3g} replicas per task "
            f"({matching.replicas / redundancy.value:.2g} times this pool's)",
        )
    if baseline is not None:
        inside = baseline.expected_error in baseline.error_rate
        table.add_row(
            f"m-first M={m_first}",
            f"simulated error {baseline.error_rate.value:.3g} (95%: {baseline.error_rate.low:.2g}"
            f"-{baseline.error_rate.high:.2g}), formula eps = {baseline.expected_error:.3g}: "
            + ("[green]agree[/]" if inside else "[red]outside the interval[/]")
            + f"; {baseline.redundancy.value:.3g} replicas per task "
            f"(expected {baseline.expected_redundancy:.3g})",
        )
    out.print(table)
    timeline = Table(title="reputation building (rates over each stretch of tasks)")
    for column in ("after tasks", "honest score", "saboteur score", "error", "redundancy"):
        timeline.add_column(column, justify="right")
    for point in run.timeline[1::2] if len(run.timeline) > 10 else run.timeline:
        timeline.add_row(
            f"{point.tasks:,}",
            f"{point.honest_score:.1f}",
            f"{point.saboteur_score:.1f}",
            f"{point.error_rate:.3g}",
            f"{point.redundancy:.3g}",
        )
    out.print(timeline)


@app.command("plan")
def plan_command(
    bad_fraction: BadFraction,
    target_error: Annotated[
        float,
        typer.Option(
            "--target-error",
            "-e",
            metavar="E",
            help="The highest share of wrong results you accept, e.g. 0.001.",
        ),
    ],
    price: Annotated[
        str | None,
        typer.Option(
            metavar="PRICE",
            help="The pool's price per task, in RLC (or 500nRLC), to work out the costs.",
        ),
    ] = None,
    lie_probability: Annotated[
        list[float] | None,
        typer.Option(
            "--lie-probability",
            "-s",
            min=0.0,
            max=1.0,
            metavar="S",
            help="How often saboteurs lie (repeat for several) [default: 0.1, 0.5 and 1, "
            "the worst of them counts].",
        ),
    ] = None,
    workers: Workers = 100,
    tasks: Annotated[
        int | None,
        typer.Option(min=1, help="Tasks per simulation [default: 20 / E, 2,000 to 200,000]."),
    ] = None,
    seed: Seed = 0,
    as_json: JsonOption = False,
) -> None:
    """The trust to ask for to keep wrong results under E, its replicas and its cost per task.

    Starts at trust ceil(1/E), whose promise (confidence 1 - 1/trust) is the target, checks it
    by simulation against saboteurs making up F of the pool, and doubles it until every
    simulated error rate is at most E. It never suggests less than ceil(1/E), whatever the
    simulation says of lower ones. The simulated saboteurs are served like everyone else:
    colluders who get the first replicates of every task decide them once they are as many as
    the replicas a fresh task needs, at any trust (`nuage trust simulate --eager-saboteurs`).

    **What it costs.** A pool's price is per task, not per replica: you pay the price (plus the
    app's and the dataset's) once per task, whatever the trust. The replicas are the pool's
    cost: its workers share 99% of the price, so each contribution earns about
    price * 99% / replicas, and a pool selling high trust prices that in. Each contribution
    locks the worker's stake (30% of the price) until the task ends; a wrong one loses it to
    the winners. The pool owner locks 30% per task, lost if the task fails.
    """
    from nuage.trust import plan
    from nuage.trust.planning import LIE_PROBABILITIES

    if not 0.0 < target_error < 1.0:
        raise typer.BadParameter("must be between 0 and 1, e.g. 0.001", param_hint="--target-error")
    nrlc = None if price is None else amount(price)
    lies = tuple(lie_probability) if lie_probability else LIE_PROBABILITIES
    with waiting(f"simulating pools with {bad_fraction:.0%} saboteurs…"):
        result = plan(
            bad_fraction,
            target_error,
            price=nrlc,
            lie_probabilities=lies,
            workers=workers,
            tasks=tasks,
            seed=seed,
        )
    if as_json:
        print_json(result.to_json())
        return
    _print_plan(result)


def _rlc(nrlc: float) -> str:
    """nRLC as RLC for reading: 4 significant digits ("0.2836"), exact below that."""
    return f"{nrlc / 10**9:.4g}"


def _print_plan(result: Plan) -> None:
    if result.met:
        out.print(
            f"ask for [bold]trust {result.trust}[/]: with {result.bad_fraction:.0%} saboteurs "
            f"the simulated error is at most {result.error:.3g} (target {result.target_error:g})"
        )
    else:
        out.print(
            f"[red]no trust up to {result.trust} keeps the simulated error under "
            f"{result.target_error:g}[/] with {result.bad_fraction:.0%} saboteurs "
            f"(worst: {result.error:.3g})"
        )
    table = Table(box=None)
    for column in ("saboteurs lie", "error rate (95%)", "replicas per task", "stalled"):
        table.add_column(column, justify="right")
    for run in result.runs:
        error, redundancy = run.error_rate, run.redundancy
        table.add_row(
            f"{run.scenario.lie_probability:.0%}",
            f"{error.value:.3g} ({error.low:.2g}-{error.high:.2g})",
            f"{redundancy.value:.3g}",
            f"{run.stalled_rate.value:.1%}",
        )
    out.print(table)
    first = result.runs[0].scenario
    out.print(
        f"expected replicas per task: {result.replicas:.3g} over {first.tasks:,} tasks from a "
        f"fresh pool of {first.workers} workers, {result.steady_replicas:.3g} once reputations "
        f"are built (trusts tried: {', '.join(map(str, result.tried))})"
    )
    if any(run.stalled for run in result.runs):
        out.print(
            "[yellow]some tasks found no consensus with every worker asked: at this trust the "
            "pool needs more honest workers[/]"
        )
    costs = result.costs
    if costs is None:
        out.print("pass --price to see what a task costs")
        return
    out.print(
        f"you pay {_rlc(costs.requester)} RLC per task to the pool (its price is per "
        f"task, not per replica), plus the app's and the dataset's prices\n"
        f"each contribution earns about {_rlc(costs.per_replica)} RLC and locks "
        f"a {_rlc(costs.worker_stake)} RLC stake, lost if it is wrong: "
        f"{_rlc(costs.stake_at_risk)} RLC of workers' stake at risk per task; "
        f"the pool owner locks {_rlc(costs.pool_stake)} RLC per task"
    )
