"""`nuage run`: buy an execution of an app, follow it live, and show what it produced."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from nuage.cli._common import (
    AsOption,
    JsonOption,
    RpcOption,
    StorageOption,
    WalletOption,
    amount,
    err,
    out,
    print_json,
    settings,
    signer,
    waiting,
)


def run(
    app: Annotated[str, typer.Argument(help="The app: its name (e.g. factorial) or address.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="The app's arguments (after -- if one starts with -)."),
    ] = None,
    input_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--input-file",
            "-i",
            exists=True,
            dir_okay=False,
            help="A file for the app's /iexec_in (repeatable); uploaded to storage first.",
        ),
    ] = None,
    trust: Annotated[int, typer.Option(min=0, help="1: one worker; above: replicated (PoCo).")] = 1,
    category: Annotated[int, typer.Option(min=0, help="0 = XS (5 min) … 4 = XL (10 h).")] = 0,
    workerpool: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Only this workerpool [default: any].")
    ] = None,
    max_price: Annotated[
        str | None, typer.Option(help="Most RLC to pay per execution [default: the cheapest].")
    ] = None,
    volume: Annotated[int, typer.Option(min=1, help="Executions to buy (tasks).")] = 1,
    deposit: Annotated[
        bool, typer.Option("--deposit", help="Deposit the missing RLC from your wallet first.")
    ] = False,
    download: Annotated[Path, typer.Option(help="Where results go (one folder per task).")] = Path(
        "results"
    ),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the results.")] = 600,
    market: Annotated[
        str | None, typer.Option("--market", metavar="URL", help="[default: the devnet's]")
    ] = None,
    storage: StorageOption = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run an app on the network: find offers, pay, follow the task live, show the result.

    Finds the cheapest compatible app and workerpool orders on the market (and when none fits,
    says why), signs your request, matches it on chain, follows each task (deal, initialized,
    contributions, consensus, reveals, finalized), then downloads and unpacks the results.

    Examples:

        nuage run factorial 10 --as requester --deposit
        nuage run sudoku -i grid.txt --as requester
        nuage run factorial 20 --trust 5 --as requester     # replicated on 3+ workers
    """
    from nuage.client import Client

    config = settings()
    client = Client(
        signer(config, role, wallet), settings=config, rpc=rpc, market=market, storage=storage
    )
    started = time.monotonic()
    with waiting(f"finding offers for {app}…"):
        bought = client.run(
            app,
            args or [],
            input_files=input_file or [],
            trust=trust,
            category=category,
            workerpool=workerpool,
            max_price=None if max_price is None else amount(max_price),
            volume=volume,
            deposit=deposit,
        )
    from nuage.protocol.amounts import format_rlc

    err.print(
        f"[green]✓[/] deal {bought.deal_id}: {volume} task(s), "
        f"{format_rlc(bought.cost)} RLC locked  [dim]{time.monotonic() - started:.1f} s[/]"
    )
    follow = _Follower(started, bought.task_ids)
    with err.status("waiting for the pool…") as status:
        bought.wait(timeout, on_progress=lambda views: follow.update(views, status))
    results = [client.download(task, into=download / task) for task in bought.task_ids]
    if as_json:
        print_json(
            {
                "deal": bought.deal_id,
                "cost_nrlc": bought.cost,
                "seconds": round(time.monotonic() - started, 2),
                "results": [_result_json(r) for r in results],
            }
        )
        return
    for result in results:
        _print_result(result, len(results) > 1)


class _Follower:
    """Turns task views into milestone lines and a live status line."""

    STEPS = ("initialized", "contributed", "consensus", "revealed", "finalized")

    def __init__(self, started: float, tasks: list[str]) -> None:
        self.started = started
        self.tasks = tasks
        self.seen: set[tuple[int, str]] = set()

    def update(self, views: list[Any], status: Any) -> None:
        elapsed = time.monotonic() - self.started
        for n, view in enumerate(views):
            for step in self._steps(view):
                if (n, step) not in self.seen:
                    self.seen.add((n, step))
                    label = f"task {n + 1} " if len(views) > 1 else "task "
                    detail = self._detail(step, view)
                    err.print(f"[green]✓[/] {label}{step}{detail}  [dim]{elapsed:.1f} s[/]")
        done = sum(v.status == 3 for v in views)
        status.update(f"{done}/{len(views)} task(s) finalized  ({elapsed:.0f} s)")

    @staticmethod
    def _steps(view: Any) -> list[str]:
        steps = []
        if view.status in (1, 2) or view.contributors:
            steps.append("initialized")
        if view.contributors:
            steps.append("contributed")
        if view.status == 2 or view.reveals:
            steps.append("consensus")
        if view.reveals:
            steps.append("revealed")
        if view.status == 3:
            steps.append("finalized")
        return steps

    @staticmethod
    def _detail(step: str, view: Any) -> str:
        if step == "contributed":
            return f" ({view.contributors} contribution(s))"
        if step == "revealed":
            return f" ({view.reveals} reveal(s))"
        return ""


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "task": result.task_id,
        "blob": result.blob_id,
        "directory": str(result.directory),
        "files": [str(f) for f in result.files],
        "text": result.text,
        "error": result.error,
    }


def _print_result(result: Any, several: bool) -> None:
    if several:
        out.print(f"[bold]task {result.task_id}[/]")
    if result.error:
        out.print(f"[red]the app failed:[/] {escape(str(result.error))}")
    elif result.text is not None:
        out.print(escape(result.text))
    out.print(f"[dim]results in {result.directory}/:[/]")
    for path in result.files:
        out.print(f"  {path}")
