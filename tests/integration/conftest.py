"""Integration fixtures: anvil on a free loopback port; `nuage` with its own home and devnet."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage import devnet
from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain
from nuage.config import Settings
from tests.integration.cli import Nuage


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture
def chain(anvil: Anvil) -> Chain:
    return Chain(anvil.url)


@pytest.fixture
def nuage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Nuage]:
    for name in ("NUAGE_RPC_URL", "NUAGE_DEPLOYMENT", "NUAGE_WALLET", "NUAGE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NUAGE_STORAGE_URL", raising=False)
    cli = Nuage(tmp_path / "home")
    yield cli
    devnet.down(Settings(home=cli.home))  # whatever a failed test left running


@pytest.fixture
def running(nuage: Nuage) -> Nuage:
    nuage.devnet_up()
    return nuage
