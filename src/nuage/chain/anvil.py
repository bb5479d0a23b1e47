"""A local anvil chain, started and stopped by nuage.

anvil comes from the npm package @foundry-rs/anvil, installed by
`scripts/setup.sh` into the project's `.tools/anvil`; `$NUAGE_ANVIL` or an
`anvil` on PATH are used otherwise. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from nuage.exceptions import ConfigError

__all__ = ["Anvil", "find_anvil", "free_port"]

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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        command = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--silent",
        ]  # fmt: skip
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise ConfigError(f"anvil exited at start: {error.strip() or 'no message'}")
            try:
                httpx.post(
                    self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1
                )
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise ConfigError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

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
