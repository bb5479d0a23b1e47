"""What this machine offers a pool: CPUs, memory, GPUs (nvidia-smi) and working sandboxes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

import psutil

from nuage.sandbox import Runner, available_runners
from nuage.scheduler.models import CapabilitiesBody

__all__ = ["count_gpus", "detect_capabilities"]

log = logging.getLogger(__name__)


def count_gpus() -> int:
    """NVIDIA GPUs `nvidia-smi` lists; 0 without it or when it fails."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return 0
    try:
        done = subprocess.run(
            [command, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("nvidia-smi failed (%s): no GPU offered", error)
        return 0
    if done.returncode != 0:
        return 0
    return sum(1 for line in done.stdout.splitlines() if line.strip())


def detect_capabilities(
    max_parallel: int = 1, runners: list[Runner] | None = None
) -> CapabilitiesBody:
    """This machine's capabilities, with the sandboxes that work here (in preference order)."""
    found = available_runners() if runners is None else runners
    return CapabilitiesBody(
        cpus=os.cpu_count() or 1,
        memory_bytes=int(psutil.virtual_memory().total),
        gpus=count_gpus(),
        sandboxes=[runner.name for runner in found],
        tee=False,
        max_parallel=max_parallel,
    )
