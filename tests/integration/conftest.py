"""A real anvil chain for integration tests, on a free loopback port."""

from collections.abc import Iterator

import pytest

from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture
def chain(anvil: Anvil) -> Chain:
    return Chain(anvil.url)
