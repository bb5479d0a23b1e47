"""Running `nuage …` in tests, in-process, with a private $NUAGE_HOME (fixtures: conftest)."""

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from nuage.chain.anvil import free_ports
from nuage.cli import app


class Nuage:
    """Runs `nuage …` in-process with its own $NUAGE_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()
        self.env = {"NUAGE_HOME": str(home), "NUAGE_PASSWORD": "", "NUAGE_WALLET": ""}

    def __call__(self, *args: str, ok: bool = True, **env: str) -> Result:
        result = self.runner.invoke(app, list(args), env=self.env | env)
        if ok:
            assert result.exit_code == 0, f"nuage {' '.join(args)}: {result.output}"
        return result

    def devnet_up(self, *options: str) -> Result:
        """`nuage devnet up` on free ports, so devnets of parallel tests never collide.

        One worker unless told otherwise: each is a process, and CI has two cores.
        """
        chain, storage, market, scheduler, explorer = free_ports(5)
        ports = ["--port", str(chain), "--storage-port", str(storage)]
        ports += ["--market-port", str(market), "--scheduler-port", str(scheduler)]
        if "--explorer-port" not in options:
            ports += ["--explorer-port", str(explorer)]
        workers = [] if "--workers" in options else ["--workers", "1"]
        return self("devnet", "up", *ports, *workers, *options)

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self(*args, "--json", **env).stdout)
