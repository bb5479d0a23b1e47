"""Every deployable fits the EIP-170 code size limit, so it deploys on a real chain."""

import boa
import pytest
from eth_abi import encode

from nuage.chain.artifacts import DEPLOYABLES, compile_all
from tests.contracts.harness import Protocol

EIP170_MAX_CODE_SIZE = 24_576  # bytes of deployed code; a chain refuses one byte more

DEPLOYED = {
    "RLC": "rlc",
    "AppRegistry": "apps",
    "DatasetRegistry": "datasets",
    "WorkerpoolRegistry": "workerpools",
    "Hub": "hub",
    "Market": "market",
}


@pytest.fixture(scope="module")
def artifacts():
    return compile_all()


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_runtime_bytecode_fits_eip170(artifacts, name: str):
    runtime = artifacts[name].runtime
    assert 0 < len(runtime) <= EIP170_MAX_CODE_SIZE, f"{name}: {len(runtime)} bytes"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployed_code_fits_eip170(protocol: Protocol, name: str):
    """Immutables are appended at deployment: the deployed code is what the limit bounds."""
    code = boa.env.get_code(getattr(protocol, DEPLOYED[name]).address)
    assert 0 < len(code) <= EIP170_MAX_CODE_SIZE, f"{name}: {len(code)} bytes"


@pytest.mark.parametrize("name", sorted(set(DEPLOYABLES) - {"Hub", "Market"}))
def test_deployed_code_is_the_artifact(protocol: Protocol, artifacts, name: str):
    code = boa.env.get_code(getattr(protocol, DEPLOYED[name]).address)
    assert code == artifacts[name].runtime


def _words(values: list[tuple[str, object]]) -> list[bytes]:
    return sorted(encode([kind], [value]) for kind, value in values)


def _appended(code: bytes, runtime: bytes) -> list[bytes]:
    assert code[: len(runtime)] == runtime
    tail = code[len(runtime) :]
    return sorted(tail[i : i + 32] for i in range(0, len(tail), 32))


def test_deployed_hub_is_the_artifact_followed_by_its_immutables(protocol: Protocol, artifacts):
    """The token and the hub's EIP-712 domain (chain id, separator)."""
    code = boa.env.get_code(protocol.hub.address)
    expected = _words(
        [
            ("address", protocol.rlc.address),
            ("uint256", protocol.hub_domain.chain_id),
            ("bytes32", protocol.hub_domain.separator),
        ]
    )
    assert _appended(code, artifacts["Hub"].runtime) == expected


def test_deployed_market_is_the_artifact_followed_by_its_immutables(protocol: Protocol, artifacts):
    """The hub, the three registries and the market's EIP-712 domain."""
    code = boa.env.get_code(protocol.market.address)
    expected = _words(
        [
            ("address", protocol.hub.address),
            ("address", protocol.apps.address),
            ("address", protocol.datasets.address),
            ("address", protocol.workerpools.address),
            ("uint256", protocol.domain.chain_id),
            ("bytes32", protocol.domain.separator),
        ]
    )
    assert _appended(code, artifacts["Market"].runtime) == expected


def test_every_deployable_is_checked():
    assert set(DEPLOYED) == set(DEPLOYABLES)
