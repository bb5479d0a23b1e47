"""`nuage task` and `nuage deal`: follow work on chain, read its logs, claim what failed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    WalletOption,
    err,
    out,
    print_json,
    settings,
    signer,
    waiting,
)
from nuage.exceptions import ConfigError, NuageError

DEFAULT_SCHEDULER = "http://127.0.0.1:8703"

task_app = typer.Typer(
    name="task",
    help="""A task is one execution of an app, in a deal: follow it, read its logs, claim it if
it failed.

```
nuage task show 0x…            # status, deadlines, contributions, result
nuage task show 0x… --watch    # until it is completed or failed
nuage task logs 0x…            # what the app wrote to stdout and stderr, on each worker
nuage task claim 0x… --as requester   # after the final deadline: refund
```""",
    no_args_is_help=True,
)

deal_app = typer.Typer(
    name="deal",
    help="""A deal: matched orders, its price, trust, and tasks.

```
nuage deal show 0x…
```""",
    no_args_is_help=True,
)

TaskId = Annotated[str, typer.Argument(metavar="TASK", help="The task id (0x + 64 hex digits).")]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="URL",
        help="The scheduler of the pool that ran the task "
        f"[default: the devnet's, else {DEFAULT_SCHEDULER}]",
    ),
]
ENDED = ("COMPLETED", "FAILED")


@task_app.command("show")
def show_task(
    task: TaskId,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Follow it until it is completed or failed.")
    ] = False,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a task's state on chain: status, deadlines, contributions, reveals and result."""
    hub = _hub(rpc)
    task_id = _id(task, "task")
    report = _task_report(hub, task_id)
    if watch and report["status"] not in ENDED:
        started = time.monotonic()
        with err.status("") as status:
            while report["status"] not in ENDED:
                status.update(
                    f"task {report['status'].lower()}: {report['contributors']} contributions, "
                    f"{report['reveals']} reveals ({time.monotonic() - started:.0f} s)"
                )
                time.sleep(1)
                report = _task_report(hub, task_id)
    if as_json:
        print_json(report)
        return
    table = Table(box=None, show_header=False)
    for key, value in report.items():
        table.add_row(key, "—" if value in (None, "") else str(value))
    out.print(table)
    if report["status"] == "COMPLETED" and report["result"]:
        out.print(f"result: `nuage storage get {report['result']} -o result.zip`")


@task_app.command("logs")
def task_logs(task: TaskId, scheduler: SchedulerOption = None, as_json: JsonOption = False) -> None:
    """Show what the app wrote to stdout and stderr on each worker that ran the task.

    The pool's scheduler keeps them (their last 64 KiB), not the chain: ask the scheduler of
    the pool that ran the task.
    """
    from nuage.network import service_url
    from nuage.scheduler.client import SchedulerRefused, SchedulerUnreachable, read_task_logs

    config = settings()
    task_id = _id(task, "task")
    url = service_url(config, "scheduler", scheduler, DEFAULT_SCHEDULER)
    try:
        with waiting(f"asking the scheduler at {url}…"):
            logs = read_task_logs(url, task_id)
    except SchedulerUnreachable:
        _not_the_devnets(task_id, scheduler)
        raise SchedulerUnreachable(
            f"the scheduler at {url} does not answer: pass --scheduler URL, the scheduler of the "
            "pool that ran the task (on this machine, `nuage devnet up` starts one)"
        ) from None
    except SchedulerRefused as refused:
        if refused.status != 404:
            raise
        _not_the_devnets(task_id, scheduler)
        raise NuageError(
            f"the scheduler at {url} holds no logs of task {task}: a worker sends them once it "
            f"has run it (`nuage task show {task}` says where it is), or another pool ran it "
            "(--scheduler URL)"
        ) from None
    if as_json:
        print_json(logs.model_dump(mode="json"))
        return
    from rich.text import Text

    for entry in logs.replicates:
        ended = entry.failure or (
            None if entry.exit_code is None else f"exit status {entry.exit_code}"
        )
        out.rule(Text(f"worker {entry.worker}" + (f" · {ended}" if ended else "")))
        for name, text in (("stdout", entry.stdout), ("stderr", entry.stderr)):
            out.print(f"[dim]{name}:[/]")
            typer.echo(text.rstrip("\n") if text else "(nothing)")


def _not_the_devnets(task_id: bytes, scheduler: str | None) -> None:
    """Raises ConfigError when the task ran in another pool than the devnet's, whose scheduler
    was asked for lack of --scheduler; does nothing when it cannot tell."""
    from nuage.devnet import load_state

    state = None if scheduler else load_state(settings())
    if state is None or state.workerpool is None:
        return
    try:
        found = _hub(None).task_deal(task_id)
    except NuageError:
        return
    pool = None if found is None else found[0].deal.workerpool
    if pool is not None and pool.lower() != state.workerpool.lower():
        raise ConfigError(
            f"task 0x{task_id.hex()} ran in workerpool {pool}, not the devnet's: its logs are "
            "kept by that pool's scheduler; pass --scheduler URL"
        )


@task_app.command("claim")
def claim_task(
    task: TaskId,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """After its final deadline, fail an unfinished task: the requester is refunded.

    Anyone may claim. The pool's stake for the task goes to the kitty and contributors get
    their stakes back.
    """
    config = settings()
    hub = _hub(rpc)
    task_id = _id(task, "task")
    found = hub.task_deal(task_id)
    if found is None:
        raise ConfigError(f"no deal on this chain has task {task}: check the id")
    created, index = found
    deadline = created.deal.final_deadline
    if hub.latest_block_time() < deadline:
        raise NuageError(
            f"the task's final deadline is {_when(deadline)}: it can be claimed after that"
        )
    account = signer(config, role, wallet)
    with waiting("claiming…"):
        (receipt,) = hub.claim_tasks(
            account, created.deal, created.deal_id, [(index, hub.contributors(task_id))]
        )
    tx = receipt["transactionHash"].to_0x_hex()
    refund = created.deal.app_price + created.deal.dataset_price + created.deal.workerpool_price
    if as_json:
        print_json({"task": task, "status": "FAILED", "refunded_nrlc": refund, "tx": tx})
        return
    from nuage.protocol.amounts import format_rlc

    out.print(
        f"[green]✓[/] task claimed: {format_rlc(refund)} RLC back to the requester's free balance"
    )
    out.print(f"  transaction {tx}")


@deal_app.command("show")
def show_deal(
    deal: Annotated[str, typer.Argument(metavar="DEAL", help="The deal id.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a deal: who, what, at which prices and trust, and its tasks' statuses."""
    from nuage.protocol.amounts import format_rlc
    from nuage.protocol.poco import TaskStatus

    hub = _hub(rpc)
    created = hub.deal(_id(deal, "deal"))
    if created is None:
        raise ConfigError(f"no deal {deal} on this chain: check the id")
    record = created.deal
    tasks = {
        "0x" + t.hex(): TaskStatus.NAMES[hub.task(t).status]
        for t in record.task_ids(created.deal_id)
    }
    report: dict[str, Any] = {
        "deal": deal,
        "app": record.app,
        "dataset": record.dataset,
        "workerpool": record.workerpool,
        "requester": record.requester,
        "price_per_task": format_rlc(record.task_price()),
        "trust": record.trust,
        "category": record.category,
        "params": created.params,
        "start": _when(record.start_time),
        "final_deadline": _when(record.final_deadline),
        "tasks": tasks,
    }
    if as_json:
        print_json(report)
        return
    table = Table(box=None, show_header=False)
    for key, value in report.items():
        if key != "tasks":
            table.add_row(key, str(value) or "—")
    out.print(table)
    for task_id, status in tasks.items():
        out.print(f"  task {task_id}  {status}")


def _hub(rpc: str | None) -> Any:
    from nuage.chain.hub import Hub
    from nuage.network import connect

    return Hub(connect(settings(), rpc))


def _id(text: str, what: str) -> bytes:
    raw = text.removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise typer.BadParameter(f"{text!r} is not a {what} id: 0x and 64 hex digits")
    return value


def _task_report(hub: Any, task_id: bytes) -> dict[str, Any]:
    from nuage.chain.hub import results_blob
    from nuage.protocol.poco import TaskStatus

    view = hub.task(task_id)
    found = hub.task_deal(task_id) if view.status == TaskStatus.UNSET else None
    completed = view.status == TaskStatus.COMPLETED
    report: dict[str, Any] = {
        "task": "0x" + task_id.hex(),
        "status": TaskStatus.NAMES[view.status],
        "contributors": view.contributors,
        "reveals": view.reveals,
        "round": view.round,
        "contribution_deadline": _when(view.contribution_deadline),
        "reveal_deadline": _when(view.reveal_deadline),
        "final_deadline": _when(view.final_deadline),
        "result_digest": "0x" + view.result_digest.hex() if completed else None,
        "result": results_blob(view.results) if completed else None,
    }
    if view.status == TaskStatus.UNSET:
        if found is None:
            raise ConfigError(f"no deal on this chain has task 0x{task_id.hex()}: check the id")
        report["final_deadline"] = _when(found[0].deal.final_deadline)
        report["deal"] = "0x" + found[0].deal_id.hex()
    return report


def _when(timestamp: int) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
