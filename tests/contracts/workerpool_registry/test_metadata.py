from tests.contracts.harness import Protocol


def test_name(protocol: Protocol):
    assert protocol.workerpools.name() == "nuage workerpools"


def test_symbol(protocol: Protocol):
    assert protocol.workerpools.symbol() == "NPOOL"
