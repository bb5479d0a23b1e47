"""`make demo` (nuage demo): deploy, match, complete every task and pay, on a real anvil."""

import pytest
from rich.console import Console

from nuage.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_completes_every_task_and_pays_everyone():
    console = Console(record=True, width=200)
    assert run_demo(console) == 0
    text = console.export_text()
    assert "matchOrders: deal" in text
    assert "9 RLC from the requester, 1.8 RLC stake from the pool owner" in text
    assert "3 (indices 0..2), category 0 (T = 300 s), trust 1" in text
    assert text.count("COMPLETED, result 3628800") == 3
    assert "app owner 3 RLC, pool owner 50.06 RLC, worker 5.94 RLC" in text
