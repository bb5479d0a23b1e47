"""`make demo` (`nuage demo`): the whole network on this machine, doing real work.

Starts the devnet when it is not up (anvil, contracts, storage, market, a workerpool with 3
sandboxed workers), deploys the example apps from `dapps/` and publishes their orders, then
buys three executions as the requester: `factorial 10`, the sudoku solver on a bundled grid,
and a word cloud of a bundled text. Each one goes through the market, the chain, the pool's
scheduler and a worker's sandbox, and comes back from storage. The devnet keeps running
afterwards: `nuage devnet down` stops it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from nuage import devnet
from nuage.client import Client
from nuage.config import Settings
from nuage.protocol.amounts import NRLC_PER_RLC, format_rlc

__all__ = ["DAPPS", "run_demo"]

DAPPS = Path(__file__).resolve().parents[2] / "dapps"
APP_PRICE = NRLC_PER_RLC // 10  # 0.1 RLC per execution
RUNS: dict[str, tuple[list[str], list[str]]] = {  # app -> (arguments, bundled input files)
    "factorial": (["10"], []),
    "sudoku": ([], ["samples/grid.txt"]),
    "wordcloud": ([], ["samples/text.txt"]),
}


def run_demo(
    console: Console,
    settings: Settings | None = None,
    *,
    apps: Sequence[str] = tuple(RUNS),
    results: Path = Path("results"),
    **devnet_options: int,
) -> int:
    """Runs the demo, printing to `console`; the process exit status."""
    settings = settings or Settings()
    started = time.monotonic()

    def step(text: str) -> None:
        console.print(f"[green]✓[/] {text}  [dim]{time.monotonic() - started:.1f} s[/]")

    with console.status("starting the devnet…"):
        try:
            state = devnet.up(settings, workers=3, **devnet_options)  # type: ignore[arg-type]
            step(f"devnet up: chain {state.chain_id} at {state.rpc_url}, 3 workers")
        except devnet.DevnetAlreadyUp as already:
            state = already.state
            step(f"devnet already up at {state.rpc_url}: using it")
    owner = Client.devnet("app-owner", home=settings.home)
    for name in apps:
        with console.status(f"building and deploying {name} (vendoring its requirements)…"):
            address, sha, _ = owner.deploy_app(DAPPS / name)
            if not owner.has_app_order(address):
                owner.publish_app(address, APP_PRICE)
        step(f"app {name} at {address} (bundle {sha[:12]}…), {format_rlc(APP_PRICE)} RLC a run")

    requester = Client.devnet("requester", home=settings.home)
    for name in apps:
        args, inputs = RUNS[name]
        shown = " ".join([name, *args, *(f"-i {i}" for i in inputs)])
        with console.status(f"nuage run {shown}…"):
            run = requester.run(
                name, args, input_files=[DAPPS / name / i for i in inputs], deposit=True
            )
            result = run.result(timeout=300, into=results / name)
        step(f"nuage run {shown}: deal {run.deal_id[:12]}…, task {run.task_ids[0][:12]}…")
        if result.error:
            console.print(f"  [red]the app failed:[/] {result.error}")
            return 1
        if result.text is not None:
            console.print("  " + result.text.replace("\n", "\n  "))
        else:
            console.print(f"  output: {result.output}")

    explorer = state.services.get("explorer")
    if explorer:
        console.print(f"\nThe DApp Store and every task of this run: [bold]{explorer}[/]")
    console.print(
        f"\nResults are in {results}/. Look around:\n"
        "  nuage devnet status                 what runs, where, and the accounts by role\n"
        "  nuage orderbook app                 the apps on sale\n"
        "  nuage run factorial 20 --as requester --trust 3    replicated on 3 workers\n"
        "  nuage account show --as worker-1    what a worker earned\n"
        "The devnet keeps running: `nuage devnet down` stops it."
    )
    return 0
