"""Finding where run cgroups may go, and one run's cgroup: its limits, its facts, its removal."""

import subprocess
from pathlib import Path

import pytest

from nuage.sandbox import Limits
from nuage.sandbox.cgroups import (
    CgroupSetup,
    RunCgroup,
    find_cgroups,
    parse_mountinfo,
    parse_proc_cgroup,
)

HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:40 / /mnt/with\\040space rw - ext4 /dev/vdb rw
"""
HYBRID_CGROUP = """\
8:pids:/
4:memory:/process_api/25d1
1:cpu,cpuacct:/
0::/
"""
MIB = 1024 * 1024


def test_mountinfo_lists_cgroup_mounts_with_their_controllers():
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    assert [(str(m.mount_point), m.version, sorted(m.controllers)) for m in mounts] == [
        ("/sys/fs/cgroup/cpu,cpuacct", 1, ["cpu", "cpuacct"]),
        ("/sys/fs/cgroup/memory", 1, ["memory"]),
        ("/sys/fs/cgroup/pids", 1, ["pids"]),
        ("/sys/fs/cgroup/unified", 2, []),
    ]


def test_proc_cgroup_maps_each_controller_to_its_path():
    assert parse_proc_cgroup(HYBRID_CGROUP) == {
        "pids": "/",
        "memory": "/process_api/25d1",
        "cpu": "/",
        "cpuacct": "/",
        "": "/",
    }


def test_cgroups_need_root(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert find_cgroups() == (None, "only root may create cgroups here (the worker is not root)")


@pytest.fixture
def fake_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cgroup2 hierarchy of plain files: the root delegates; the worker's own cgroup is busy."""
    monkeypatch.setattr("os.geteuid", lambda: 0)
    mount = tmp_path / "cgroup"
    own = mount / "system.slice" / "worker.service"
    own.mkdir(parents=True)
    for directory in (mount, mount / "system.slice", own):
        (directory / "cgroup.controllers").write_text("cpu memory pids\n")
        (directory / "cgroup.subtree_control").write_text("")
    (mount / "cgroup.subtree_control").write_text("cpu memory pids\n")
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "mountinfo").write_text(f"41 31 0:38 / {mount} rw - cgroup2 cgroup2 rw\n")
    (proc / "cgroup").write_text("0::/system.slice/worker.service\n")
    return tmp_path


def test_v2_run_cgroups_go_under_the_nearest_delegating_ancestor(fake_v2: Path):
    setup, reason = find_cgroups(fake_v2 / "proc")
    assert reason == "" and setup is not None
    assert setup.version == 2
    assert setup.parents == {"": fake_v2 / "cgroup"}
    assert setup.controllers == {"cpu", "memory", "pids"}


def test_v2_run_cgroup_holds_the_limits_and_reports_the_facts(fake_v2: Path):
    setup, _ = find_cgroups(fake_v2 / "proc")
    assert setup is not None
    limits = Limits(memory_bytes=128 * MIB, max_processes=16, cpus=0.5)
    group = RunCgroup.create(setup, limits, extra_processes=2)
    (directory,) = (p.parent for p in group.procs_files)
    assert directory.parent == fake_v2 / "cgroup"
    assert directory.name.startswith("nuage-sandbox-")
    assert (directory / "pids.max").read_text() == "18\n"
    assert (directory / "memory.max").read_text() == f"{128 * MIB}\n"
    assert (directory / "cpu.max").read_text() == "50000 100000\n"
    assert not group.oom_killed() and not group.pids_limit_hit()
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n")
    (directory / "pids.events").write_text("max 3\n")
    (directory / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert group.oom_killed() and group.pids_limit_hit()
    assert group.cpu_seconds() == 1.5


def test_v1_run_cgroup_holds_the_limits(tmp_path: Path):
    parents = {name: tmp_path / name for name in ("pids", "memory", "cpu", "cpuacct")}
    parents["cpuacct"] = parents["cpu"]  # a shared cpu,cpuacct hierarchy
    for parent in parents.values():
        parent.mkdir(exist_ok=True)
    setup = CgroupSetup(1, parents, frozenset(parents))
    group = RunCgroup.create(setup, Limits(memory_bytes=64 * MIB, max_processes=8), 2)
    assert len(group.procs_files) == 3
    pids, memory, cpu = (p.parent for p in group.procs_files)
    assert (pids / "pids.max").read_text() == "10\n"
    assert (memory / "memory.limit_in_bytes").read_text() == f"{64 * MIB}\n"
    assert not (cpu / "cpu.cfs_quota_us").exists()
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (cpu / "cpuacct.usage").write_text("2500000000\n")
    assert group.oom_killed() and group.cpu_seconds() == 2.5


@pytest.mark.integration
def test_a_real_run_cgroup_bounds_and_kills_its_processes():
    setup, reason = find_cgroups()
    if setup is None:
        pytest.skip(f"no cgroups here: {reason}")
    group = RunCgroup.create(setup, Limits(memory_bytes=64 * MIB, max_processes=4), 0)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        group.add(sleeper.pid)
        assert all(str(sleeper.pid) in p.read_text().split() for p in group.procs_files)
        group.kill_all()
        assert sleeper.wait(timeout=5) == -9
        assert not group.oom_killed() and not group.pids_limit_hit()
    finally:
        sleeper.kill()
        sleeper.wait()
        group.remove()
    assert not any(p.parent.exists() for p in group.procs_files)
