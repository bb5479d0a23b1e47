"""SUMMARY.md states each goal, the measured value and whether it is met."""

import json
from pathlib import Path

from bench.summary import all_goals, load_results, render, write_summary


def throughput(ratio: float, finalized: int = 1000) -> dict:
    return {
        "pipeline": {"tasks": 1000, "finalized": finalized, "workers": 4, "tasks_per_s": 9.0},
        "bare": {"tasks_per_s": 9.0 / ratio},
        "ratio": ratio,
        "goal": {"ratio_at_least": 0.5, "met": ratio >= 0.5},
    }


def verdicts(results: dict, area: str) -> list[bool | None]:
    return [goal.met for goal in all_goals(results) if goal.area == area]


def test_throughput_goal_is_met_at_half_the_bare_rate_or_more():
    assert verdicts({"throughput": throughput(0.5)}, "throughput") == [True]
    assert verdicts({"throughput": throughput(0.49)}, "throughput") == [False]


def test_a_bag_that_did_not_finish_does_not_meet_the_goal():
    assert verdicts({"throughput": throughput(0.9, finalized=999)}, "throughput") == [False]


def test_gas_is_judged_against_iexec_averages():
    gas = {
        "functions": {"Market.matchOrders": {"avg": 200_000}, "Hub.reveal": {"avg": 80_000}},
        "scenarios": {},
        "reference": {"iexec_poco_average": {"matchOrders": 760_843, "reveal": 78_544}},
    }
    goals = [g for g in all_goals({"gas": gas}) if g.area == "gas"]
    assert [(g.met, g.measured) for g in goals] == [
        (True, "200,000 gas, ratio 3.80"),
        (False, "80,000 gas, ratio 0.98"),
    ]


def test_absent_results_are_said_to_be_absent_not_met_or_failed():
    goals = all_goals({})
    assert {g.area for g in goals} >= {"gas", "throughput", "latency", "scale", "trust"}
    assert all(g.met is None and "absent" in g.measured for g in goals)


def test_trust_grid_and_devnet_run_are_judged():
    trust = {
        "grid": {"summary": {"cells": 36, "goal_met": 35, "binomial_formula_matched": True}},
        "devnet": {"all_agree": True, "all_tasks_ended": True, "tasks_bought": 200},
    }
    assert verdicts({"trust": trust}, "trust") == [False, True, True]


def test_a_devnet_trust_run_says_which_figures_disagree_with_the_simulator():
    run = {"all_agree": False, "agrees": {"error_rate": True, "redundancy": False}}
    (goal,) = all_goals({"trust": {"devnet": run}})[-1:]
    assert goal.met is False
    assert goal.measured.endswith("outside the simulated 95%: redundancy")


def test_a_results_file_may_list_its_own_goals():
    extra = {"goals": [{"goal": "a goal", "measured": "42", "met": True}]}
    goals = [g for g in all_goals({"other": extra}) if g.area == "other"]
    assert [(g.goal, g.measured, g.met) for g in goals] == [("a goal", "42", True)]


def test_scale_table_marks_capped_cells():
    scale = {
        "cells": [],
        "tasks_per_s": {"1": {"1": 0.8}, "4": {"1": 0.7, "1000": 2.0}},
        "capped": [{"workers": 1, "tasks": 1000, "why": "budget"}],
    }
    page = render({"scale": scale})
    assert "| 1 | 0.8 | capped |" in page
    assert "| 4 | 0.7 | 2.0 |" in page


def test_summary_file_counts_the_goals_met(tmp_path: Path):
    (tmp_path / "throughput.json").write_text(json.dumps(throughput(0.25)))
    (tmp_path / "broken.json").write_text("{not json")
    out = write_summary(tmp_path, timings={"steps": {}, "total_s": 600})
    page = out.read_text()
    assert out == tmp_path / "SUMMARY.md"
    assert set(load_results(tmp_path)) == {"throughput"}
    assert "## Goals: 0 of 1 met" in page
    assert "**not met**" in page
    assert "took 10.0 minutes" in page
