from tests.contracts.harness import Protocol


def test_name(protocol: Protocol):
    assert protocol.apps.name() == "nuage apps"


def test_symbol(protocol: Protocol):
    assert protocol.apps.symbol() == "NAPP"
