"""`nuage trust simulate | plan`, in-process."""

import json

import pytest
from typer.testing import CliRunner

from nuage.cli.trust import app

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_simulate_prints_the_error_rate_redundancy_and_reputation():
    text = invoke("simulate", "-f", "0.2", "-s", "1", "--trust", "100", "--tasks", "500")
    assert "error rate" in text and "goal ≤ 0.01: met" in text
    assert "contributions per task" in text
    assert "reputation building" in text


def test_simulate_json_is_the_run_and_its_m_first_baseline():
    report = json.loads(
        invoke(
            "simulate", "--bad-fraction", "0.3", "--lie-probability", "0.5", "--trust", "10",
            "--tasks", "400", "--m-first", "2", "--seed", "3", "--json",
        )
    )  # fmt: skip
    assert report["scenario"] == {
        "bad_fraction": 0.3,
        "lie_probability": 0.5,
        "trust": 10,
        "tasks": 400,
        "workers": 100,
        "saboteurs": 30,
        "seed": 3,
        "eager_saboteurs": False,
    }
    assert report["goal_error"] == 0.1
    assert report["completed"] + report["stalled"] == 400
    assert report["m_first"]["m"] == 2 and report["m_first"]["tasks"] == 400
    assert report["m_first_same_error"]["phi"] == 0.15
    assert len(report["timeline"]) == 20


def test_plan_json_gives_trust_replicas_and_costs():
    report = json.loads(
        invoke("plan", "-f", "0.2", "-e", "0.01", "--price", "1", "--tasks", "500", "--json")
    )
    assert report["trust"] == 100 and report["met"]
    assert report["replicas"] >= 1
    costs = report["costs"]
    assert costs["requester_per_task"] == 10**9  # the price per task, not per replica
    assert costs["worker_stake_per_replica"] == 3 * 10**8
    assert costs["pay_per_replica"] * report["replicas"] == pytest.approx(0.99 * 10**9)


def test_plan_text_says_the_price_is_per_task():
    text = invoke("plan", "-f", "0.1", "-e", "0.1", "--price", "2", "--tasks", "300")
    assert "ask for trust 10" in text
    assert "per task, not per replica" in " ".join(text.split())


def test_plan_refuses_a_target_error_outside_0_1():
    result = runner.invoke(app, ["plan", "-f", "0.1", "-e", "1.5"])
    assert result.exit_code == 2
    assert "--target-error" in result.output


def test_help_teaches_the_trust_and_the_baseline():
    text = " ".join(runner.invoke(app, ["--help"]).stdout.split())
    assert "m-first voting" in text and "1 - 1/T" in text


def test_simulate_with_eager_saboteurs_says_so_and_fails_the_goal():
    text = invoke("simulate", "-f", "0.2", "--trust", "100", "--tasks", "200", "--eager-saboteurs")
    assert "served first" in text
    assert "not met" in text
