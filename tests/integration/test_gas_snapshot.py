"""The committed gas snapshot is current, and meets the issue's bars."""

import json

import pytest

from bench import gas
from nuage.chain.client import Chain

pytestmark = pytest.mark.integration


def test_gas_snapshot_matches_committed_file(chain: Chain):
    committed = json.loads(gas.RESULTS.read_text())
    measured = gas.run(chain)
    assert measured["scenarios"] == committed["scenarios"], "gas changed: run `make gas` and commit"
    assert measured["functions"] == committed["functions"], "gas changed: run `make gas` and commit"


def test_committed_gas_meets_targets():
    scenarios = json.loads(gas.RESULTS.read_text())["scenarios"]
    assert scenarios["create_app"] <= 150_000  # iExec: 550-625k per asset contract
    assert scenarios["match_fresh_request"] <= 300_000  # iExec matchOrders: 760,843
    assert scenarios["single_task_trust1"] <= 300_000  # iExec: ~1.8M classic, ~730k Boost
    assert scenarios["deal100_trust1_per_task"] <= 100_000
    assert scenarios["trust100_7workers"] <= 1_600_000  # iExec's averages add up to ~4.4M
