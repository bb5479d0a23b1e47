"""Deployment records: written atomically, read back equal, refused with a reason when broken."""

import json
from pathlib import Path

import pytest

from nuage.chain.deployment import Deployment
from nuage.exceptions import ConfigError, NotDeployed

RECORD = Deployment(
    chain_id=31337,
    block=1,
    rlc="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    app_registry="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    dataset_registry="0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    workerpool_registry="0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
    hub="0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    market="0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
)


def test_a_saved_record_loads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "deployments" / "31337.json"
    RECORD.save(path)
    assert Deployment.load(path) == RECORD
    assert [p.name for p in path.parent.iterdir()] == ["31337.json"]  # no temporary left


def test_a_missing_record_is_not_deployed(tmp_path: Path) -> None:
    with pytest.raises(NotDeployed, match="no deployment record"):
        Deployment.load(tmp_path / "1.json")


def test_a_corrupt_record_says_it_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "31337.json"
    path.write_text("{half")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Deployment.load(path)


def test_an_incomplete_record_names_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "31337.json"
    raw = RECORD.as_dict()
    del raw["hub"], raw["market"]
    path.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="lacks hub, market"):
        Deployment.load(path)
