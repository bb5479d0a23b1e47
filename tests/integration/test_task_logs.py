"""`nuage task logs`: what an app printed in a worker's sandbox, kept by the pool's scheduler."""

import json
import time
from pathlib import Path
from typing import Any

import pytest

from nuage.apps import init
from nuage.client import Client
from nuage.demo import APP_PRICE
from tests.integration.cli import Nuage

pytestmark = pytest.mark.integration

CHATTY = """\
import json
import os
import sys

out = os.environ["IEXEC_OUT"]
print("chatty on stdout:", " ".join(sys.argv[1:]))
print("chatty on stderr: all is well", file=sys.stderr)
with open(os.path.join(out, "result.txt"), "w") as file:
    file.write("done\\n")
with open(os.path.join(out, "computed.json"), "w") as file:
    json.dump({"deterministic-output-path": os.path.join(out, "result.txt")}, file)
"""


def logs_of(nuage: Nuage, task: str, timeout: float = 30.0) -> Any:
    """The task's logs once its worker sent them (beside its work, not before it)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = nuage("task", "logs", task, "--json", ok=time.monotonic() > deadline)
        if answer.exit_code == 0:
            return json.loads(answer.stdout)
        time.sleep(0.5)


def test_task_logs_show_what_the_app_printed_on_the_worker(running: Nuage, tmp_path: Path):
    app = tmp_path / "chatty"
    init(app, "chatty")
    (app / "main.py").write_text(CHATTY)
    owner = Client.devnet("app-owner", home=running.home)
    address, _, _ = owner.deploy_app(app)
    owner.publish_app(address, APP_PRICE)

    run = Client.devnet("requester", home=running.home).run(
        address, ["hello", "logs"], deposit=True
    )
    result = run.result(timeout=180, into=tmp_path / "result")
    assert result.error is None and result.text == "done"

    (task,) = run.task_ids
    logs = logs_of(running, task)
    assert logs["task_id"] == task
    (replicate,) = logs["replicates"]
    assert replicate["stdout"] == "chatty on stdout: hello logs\n"
    assert replicate["stderr"] == "chatty on stderr: all is well\n"
    assert replicate["exit_code"] == 0

    shown = running("task", "logs", task).stdout
    assert f"worker {replicate['worker']}" in shown
    assert "chatty on stdout: hello logs" in shown and "chatty on stderr: all is well" in shown

    unknown = running("task", "logs", "0x" + "11" * 32, ok=False)
    assert unknown.exit_code == 1 and "holds no logs" in " ".join(unknown.output.split())


def test_task_logs_from_a_scheduler_that_does_not_answer_say_how_to_point_at_it(nuage: Nuage):
    from nuage.chain.anvil import free_port

    task = "0x" + "11" * 32
    answer = nuage("task", "logs", task, "--scheduler", f"http://127.0.0.1:{free_port()}", ok=False)
    assert answer.exit_code == 1
    message = " ".join(answer.output.split())  # the console wraps it
    assert "does not answer" in message and "--scheduler URL" in message
