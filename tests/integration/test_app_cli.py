"""`nuage app`: scaffold, build, deploy to storage and chain, show."""

import hashlib
from pathlib import Path

import pytest

from nuage import devnet
from nuage.config import Settings
from nuage.storage.client import StorageClient
from tests.integration.cli import Nuage

pytestmark = pytest.mark.integration


def test_an_app_from_scaffold_to_chain(running: Nuage, tmp_path: Path) -> None:
    source = tmp_path / "hello"
    running("app", "init", "hello", str(source))
    built = running.json("app", "build", str(source))
    assert built["sha256"] == hashlib.sha256(Path(built["path"]).read_bytes()).hexdigest()

    deployed = running.json("app", "deploy", str(source), "--as", "app-owner")
    assert deployed["created"] is True and deployed["sha256"] == built["sha256"]
    again = running.json("app", "deploy", built["path"], "--as", "app-owner")  # the zip itself
    assert again["created"] is False and again["address"] == deployed["address"]

    shown = running.json("app", "show", deployed["address"])
    assert shown["name"] == "hello" and shown["checksum"] == built["sha256"]
    assert shown["owner"] == deployed["owner"] and shown["type"] == "BUNDLE"

    state = devnet.load_state(Settings(home=running.home))
    assert state is not None
    with StorageClient(state.services["storage"]) as storage:
        assert storage.get_bytes(built["sha256"]) == Path(built["path"]).read_bytes()


def test_app_errors_say_what_to_do(running: Nuage, tmp_path: Path) -> None:
    unknown = running("app", "show", "0x" + "11" * 20, ok=False)
    assert "no app 0x1111111111111111111111111111111111111111 is registered" in " ".join(
        unknown.output.split()
    )
    empty = running("app", "build", str(tmp_path), ok=False)
    assert "nuage app init NAME" in " ".join(empty.output.split())
    running("app", "init", "hello", str(tmp_path / "hello"))
    twice = running("app", "init", "hello", str(tmp_path / "hello"), ok=False)
    assert "exists already" in twice.output


def test_a_dataset_and_a_workerpool_on_chain(running: Nuage, tmp_path: Path) -> None:
    data = tmp_path / "prices.csv"
    data.write_text("day,price\n1,10\n2,11\n")
    dataset = running.json("dataset", "deploy", str(data), "--as", "dataset-owner")
    assert dataset["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    shown = running.json("dataset", "show", dataset["address"])
    assert shown["name"] == "prices.csv" and shown["owner"] == dataset["owner"]

    pool = running.json("workerpool", "create", "test pool", "--as", "pool-owner")
    assert pool["created"] is True
    assert running.json("workerpool", "create", "test pool", "--as", "pool-owner") == pool | {
        "created": False
    }
    record = running.json("workerpool", "show", pool["address"])
    assert record["worker_stake_ratio"] == 30 and record["scheduler_reward_ratio"] == 1
