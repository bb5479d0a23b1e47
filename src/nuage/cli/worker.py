"""``nuage worker``: sell this machine's computing power to a workerpool.

The agent's stack (web3, the sandbox, httpx) is imported inside the commands, so that loading
the ``nuage`` command stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from nuage.cli._common import AsOption, RpcOption, WalletOption, settings, signer
from nuage.exceptions import ConfigError

__all__ = ["app"]

DEFAULT_SCHEDULER = "http://127.0.0.1:8703"

app = typer.Typer(
    name="worker",
    help="""A worker: runs a pool's tasks in a sandbox and is paid for the results it proves.

It logs in to the pool's scheduler with its wallet, asks for replicates, downloads and checks
the app and its inputs, runs the app in the sandbox (bubblewrap by default), contributes its
result on chain (staking part of the task's price), reveals it when asked, and uploads it.

```
nuage worker capabilities                        # what this machine offers
nuage worker start --scheduler URL --as worker-1 --parallel 2
```""",
    rich_markup_mode="markdown",
    no_args_is_help=True,
)


@app.command()
def start(
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="URL",
            envvar="NUAGE_WORKER_SCHEDULER_URL",
            help=f"The pool's scheduler [default: the devnet's, else {DEFAULT_SCHEDULER}].",
        ),
    ] = None,
    role: AsOption = None,
    wallet: WalletOption = None,
    rpc: RpcOption = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage", metavar="URL", help="[default: what the scheduler says, else the devnet's]"
        ),
    ] = None,
    parallel: Annotated[int, typer.Option(help="Replicates run at once.", min=1, max=256)] = 1,
    mode: Annotated[
        str,
        typer.Option(
            help="honest; on the devnet only, for tests: liar, colluding, silent or crash."
        ),
    ] = "honest",
    sandbox: Annotated[
        str | None,
        typer.Option(help="bubblewrap, docker or podman [default: the first that works]."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Its database, cache and work [default: $NUAGE_HOME/worker/<chain>/<address>]."
        ),
    ] = None,
    max_wall_clock: Annotated[
        float | None,
        typer.Option(help="Cap, in seconds, on an app's run (default: the category's T)."),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
) -> None:
    """Run a worker in the foreground until Ctrl-C; logs go to stderr.

    Example: `nuage worker start --scheduler http://127.0.0.1:8703 --as worker-1`

    Contributing at trust > 1 stakes part of each task's price from the worker's free balance in
    the hub: deposit RLC first (`nuage account deposit 10 --as worker-1`). A worker stopped and
    started again never contributes twice to a task.
    """
    from pydantic import ValidationError

    from nuage.network import service_url
    from nuage.worker.main import WorkerSettings
    from nuage.worker.main import start as run
    from nuage.worker.state import MODES

    if mode not in MODES:
        raise typer.BadParameter(f"{mode!r} is not one of {', '.join(MODES)}", param_hint="--mode")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter(f"{log_level!r} is not a log level", param_hint="--log-level")
    config = settings()
    overrides: dict[str, Any] = {
        "scheduler_url": service_url(config, "scheduler", scheduler, DEFAULT_SCHEDULER),
        "rpc_url": rpc,
        "storage_url": storage,
        "parallel": parallel,
        "mode": mode,
        "sandbox": sandbox,
        "data_dir": data_dir,
        "max_wall_clock": max_wall_clock,
    }
    try:
        worker_settings = WorkerSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise ConfigError(f"invalid worker settings ({error.errors()[0]['msg']})") from None
    run(worker_settings, signer(config, role, wallet), log_level=log_level.lower())


@app.command()
def capabilities(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show what this machine would offer a pool: CPUs, memory, GPUs and working sandboxes.

    Example: `nuage worker capabilities --json`
    """
    from nuage.sandbox import all_runners
    from nuage.worker.capabilities import detect_capabilities

    found = detect_capabilities()
    unavailable = {r.name: r.why_unavailable() for r in all_runners() if not r.available()}
    if as_json:
        typer.echo(json.dumps({**found.model_dump(), "unavailable_sandboxes": unavailable}))
        return
    typer.echo(f"CPUs: {found.cpus}")
    typer.echo(f"memory: {found.memory_bytes / 1024**3:.1f} GiB")
    typer.echo(f"GPUs: {found.gpus}")
    typer.echo(f"sandboxes: {', '.join(found.sandboxes) or 'none (a worker needs one)'}")
    for name, why in unavailable.items():
        typer.echo(f"  {name} unavailable: {why}")
