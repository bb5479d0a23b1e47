"""The `nuage scheduler` and `nuage worker` sub-apps, as the main command will mount them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nuage.cli.scheduler import app as scheduler_app
from nuage.cli.worker import app as worker_app


def test_worker_capabilities_lists_what_this_machine_offers():
    result = CliRunner().invoke(worker_app, ["capabilities", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["cpus"] >= 1 and found["memory_bytes"] > 0
    assert isinstance(found["sandboxes"], list)


def test_serving_needs_a_workerpool_and_says_so():
    result = CliRunner().invoke(scheduler_app, ["serve"], env={"NUAGE_SCHEDULER_WORKERPOOL": ""})
    assert result.exit_code != 0
    assert "--workerpool" in result.output


def test_an_unknown_mode_is_refused_before_anything_runs(tmp_path):
    result = CliRunner().invoke(
        worker_app,
        ["start", "--mode", "byzantine", "--as", "worker-1"],
        env={"NUAGE_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "byzantine" in result.output
