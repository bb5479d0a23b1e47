"""A local anvil chain, started and stopped by nuage.

anvil comes from the npm package @foundry-rs/anvil, installed by
`scripts/setup.sh` into the project's `.tools/anvil`; `$NUAGE_ANVIL` or an
`anvil` on PATH are used otherwise. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

from nuage.exceptions import ConfigError

__all__ = ["Anvil", "anvil_command", "find_anvil", "free_port", "free_ports", "wait_for_rpc"]

_PROJECT_ANVIL = Path(".tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")


def find_anvil() -> str:
    """The anvil binary to run, or a ConfigError that says how to install it."""
    candidates = [
        os.environ.get("NUAGE_ANVIL"),
        str(Path(__file__).resolve().parents[3] / _PROJECT_ANVIL),
        shutil.which("anvil"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError(
        "anvil not found: run `make setup` (installs it from npm into .tools/anvil) "
        "or set NUAGE_ANVIL to an anvil binary"
    )


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now (held together while chosen, so two calls
    in a row cannot hand out the same one)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def anvil_command(
    port: int, *, chain_id: int = 31337, block_time: float | None = None, accounts: int = 10
) -> list[str]:
    """The command line of an anvil on 127.0.0.1:`port` with `accounts` funded accounts.

    The accounts are anvil's defaults: derived from its well-known test mnemonic, 10,000
    ETH each. They are public; a devnet is never a place for real value.
    """
    command = [
        find_anvil(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--accounts", str(accounts),
        "--silent",
    ]  # fmt: skip
    if block_time:
        command += ["--block-time", f"{block_time:g}"]
    return command


def wait_for_rpc(url: str, timeout: float, exited: Callable[[], str | None]) -> None:
    """Waits until the node at `url` answers; `exited()` returns a reason if it died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reason = exited()
        if reason is not None:
            raise ConfigError(f"anvil exited at start: {reason}")
        try:
            httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise ConfigError(f"anvil did not answer on {url} within {timeout:.0f} s")


class Anvil:
    """An anvil process on a free loopback port; a context manager that stops it."""

    def __init__(
        self, *, port: int | None = None, block_time: float | None = None, chain_id: int = 31337
    ):
        self.port = port or free_port()
        self.chain_id = chain_id
        self.block_time = block_time
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Anvil:
        command = anvil_command(self.port, chain_id=self.chain_id, block_time=self.block_time)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._process = process

        def exited() -> str | None:
            if process.poll() is None:
                return None
            error = process.stderr.read().decode() if process.stderr else ""
            return error.strip() or "no message"

        try:
            wait_for_rpc(self.url, timeout, exited)
        except ConfigError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
