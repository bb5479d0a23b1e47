from tests.contracts.harness import Protocol


def test_name(protocol: Protocol):
    assert protocol.datasets.name() == "nuage datasets"


def test_symbol(protocol: Protocol):
    assert protocol.datasets.symbol() == "NDATA"
