"""Choosing a runner: bubblewrap first, then the container engines."""

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox import BubblewrapRunner, all_runners, available_runners, default_runner


def test_every_backend_is_known_in_order_of_preference():
    assert [runner.name for runner in all_runners()] == ["bubblewrap", "docker", "podman"]


def test_the_default_runner_is_bubblewrap_when_it_works():
    if not BubblewrapRunner().available():
        pytest.skip(f"bubblewrap unavailable: {BubblewrapRunner().why_unavailable()}")
    assert default_runner().name == "bubblewrap"
    assert available_runners()[0].name == "bubblewrap"


def test_no_working_backend_is_an_error_with_every_reason(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(
        "nuage.sandbox.backends.all_runners",
        lambda: [BubblewrapRunner(bwrap="/no/bwrap")],
    )
    assert available_runners() == []
    with pytest.raises(SandboxError, match=r"bubblewrap: bwrap \(bubblewrap\) is not installed"):
        default_runner()
