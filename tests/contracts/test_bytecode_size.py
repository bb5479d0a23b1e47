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


@pytest.mark.parametrize("name", sorted(set(DEPLOYABLES) - {"Hub"}))
def test_deployed_code_is_the_artifact(protocol: Protocol, artifacts, name: str):
    code = boa.env.get_code(getattr(protocol, DEPLOYED[name]).address)
    assert code == artifacts[name].runtime


def test_deployed_hub_is_the_artifact_followed_by_its_immutables(protocol: Protocol, artifacts):
    code = boa.env.get_code(protocol.hub.address)
    runtime = artifacts["Hub"].runtime
    immutables = encode(
        ["address", "address", "address", "address", "uint256", "bytes32"],
        [
            protocol.rlc.address,
            protocol.apps.address,
            protocol.datasets.address,
            protocol.workerpools.address,
            protocol.domain.chain_id,
            protocol.domain.separator,
        ],
    )
    assert len(code) == len(runtime) + len(immutables)
    assert code[: len(runtime)] == runtime
    assert code[len(runtime) :] == immutables


def test_every_deployable_is_checked():
    assert set(DEPLOYED) == set(DEPLOYABLES)
