"""`make demo` (nuage demo) deploys, matches and prints a deal on a real anvil."""

import pytest
from rich.console import Console

from nuage.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_matches_a_deal_and_prints_it():
    console = Console(record=True, width=200)
    assert run_demo(console) == 0
    text = console.export_text()
    assert "matchOrders: deal" in text
    assert "9 RLC from the requester, 1.8 RLC stake from the pool owner" in text
    assert "3 (indices 0..2), category 0, trust 1" in text
