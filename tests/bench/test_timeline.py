"""Where the time goes: the services' log lines read into each task's steps."""

from bench.latency import percentile
from bench.scale import plan
from bench.throughput import (
    WORKER_STEPS,
    Timeline,
    log_stamp,
    parse_log,
    stage_times,
    worker_time,
)

WORKER_LOG = """\
2026-01-01 10:00:00,000 INFO nuage.worker.main: sandbox: bubblewrap
2026-01-01 10:00:01,000 INFO nuage.worker.agent: task 0xaaaaaaaa… assigned (deal 0xdddddddd…, index 0, trust 1)
2026-01-01 10:00:01,100 INFO nuage.worker.agent: task 0xaaaaaaaa…: app factorial and 0 inputs ready
2026-01-01 10:00:01,300 INFO nuage.worker.agent: task 0xaaaaaaaa… computed: result, digest 0x00
2026-01-01 10:00:01,400 INFO nuage.worker.agent: task 0xaaaaaaaa…: result uploaded as blob ab
2026-01-01 10:00:01,500 INFO nuage.worker.agent: task 0xaaaaaaaa… completed in one transaction (89,667 gas)
""".splitlines()  # noqa: E501


def test_worker_log_lines_give_each_step_of_a_task():
    found = parse_log(WORKER_LOG, WORKER_STEPS)
    steps = found["0xaaaaaaaa"]
    assert list(steps) == ["assigned", "ready", "computed", "uploaded", "completed"]
    assert round(steps["completed"] - steps["assigned"], 3) == 0.5
    assert steps["assigned"] == log_stamp("2026-01-01 10:00:01,000")


def line_of(tasks: dict[str, dict[str, float]], workers: dict[str, str]) -> Timeline:
    return Timeline(tasks=tasks, worker_of=workers, deals={})


def task(start: float) -> dict[str, float]:
    return {
        "assigned": start,
        "ready": start + 0.1,
        "computed": start + 0.3,
        "uploaded": start + 0.4,
        "completed": start + 0.5,
    }


def test_worker_time_splits_the_window_between_stages_and_waiting():
    ids = ["0x11111111" + "0" * 56, "0x22222222" + "0" * 56]
    line = line_of(
        {"0x11111111": task(1.0), "0x22222222": task(3.0)},
        {"0x11111111": "worker-1", "0x22222222": "worker-1"},
    )
    where = worker_time(line, ids, workers=1, start=0.0, end=4.0)
    shares = where["shares_of_worker_time"]
    assert shares["before_first_task"] == 0.25  # 1 s of 4
    assert shares["between_tasks"] == 0.375  # 1.5 s to 3.0 s
    assert shares["sandbox"] == 0.1  # 2 x 0.2 s
    assert round(sum(shares.values()), 3) == 1.0
    assert where["places"]["scheduler"] == 0.625


def test_a_worker_the_bag_had_no_task_for_is_not_charged_to_the_scheduler():
    ids = ["0x11111111" + "0" * 56]
    line = line_of({"0x11111111": task(0.0)}, {"0x11111111": "worker-1"})
    where = worker_time(line, ids, workers=2, start=0.0, end=0.5)
    assert where["places"]["scheduler"] == 0.0
    assert where["places"]["no_task_left"] == 0.5


def test_stage_times_skip_tasks_not_fully_logged():
    ids = ["0x11111111" + "0" * 56, "0x22222222" + "0" * 56]
    line = line_of({"0x11111111": task(0.0), "0x22222222": {"assigned": 1.0}}, {})
    times = stage_times(line, ids)
    assert times["sandbox"] == {"mean_ms": 200.0, "p50_ms": 200.0, "tasks": 1}
    assert "handout" not in times


def test_scale_grid_is_capped_per_worker_and_says_so():
    runs, capped = plan((1, 4), (1, 10, 100, 1000), per_worker=25)
    assert runs == {1: [1, 10], 4: [1, 10, 100]}
    assert {(c["workers"], c["tasks"]) for c in capped} == {(1, 100), (1, 1000), (4, 1000)}


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(1, 31)]
    assert percentile(values, 50) == 15.5
    assert round(percentile(values, 95), 2) == 28.55
