"""Which runners exist, which work here, and the one a worker uses unless told otherwise."""

from __future__ import annotations

from nuage.exceptions import SandboxError
from nuage.sandbox.bubblewrap import BubblewrapRunner
from nuage.sandbox.container import ContainerRunner
from nuage.sandbox.runner import Runner

__all__ = ["all_runners", "available_runners", "default_runner"]


def all_runners() -> list[Runner]:
    """One of each backend, in order of preference: bubblewrap, docker, podman."""
    return [BubblewrapRunner(), ContainerRunner(engine="docker"), ContainerRunner(engine="podman")]


def available_runners() -> list[Runner]:
    """The runners that can run apps on this machine, in order of preference."""
    return [runner for runner in all_runners() if runner.available()]


def default_runner() -> Runner:
    """The preferred runner that works here (bubblewrap when present).

    Raises `SandboxError` listing why each one is unavailable when none is.
    """
    runners = all_runners()
    for runner in runners:
        if runner.available():
            return runner
    reasons = "; ".join(f"{runner.name}: {runner.why_unavailable()}" for runner in runners)
    raise SandboxError(f"no sandbox runner works on this machine ({reasons})")
