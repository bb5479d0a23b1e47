from functools import reduce
from operator import xor

import pytest
from eth_utils import keccak

from tests.contracts.erc721.conftest import Registry


@pytest.mark.parametrize(
    "interface_id",
    [
        bytes.fromhex("01ffc9a7"),  # ERC-165
        bytes.fromhex("80ac58cd"),  # ERC-721
    ],
    ids=["erc165", "erc721"],
)
def test_supports_interface(registry: Registry, interface_id: bytes):
    assert registry.contract.supportsInterface(interface_id) is True


@pytest.mark.parametrize(
    "interface_id",
    [
        bytes.fromhex("ffffffff"),  # ERC-165: must be false
        bytes.fromhex("780e9d63"),  # ERC-721 enumerable: not implemented
        bytes.fromhex("5b5e139f"),  # ERC-721 metadata: no tokenURI
        bytes.fromhex("36372b07"),  # ERC-20
    ],
    ids=["invalid", "erc721-enumerable", "erc721-metadata", "erc20"],
)
def test_does_not_support_interface(registry: Registry, interface_id: bytes):
    assert registry.contract.supportsInterface(interface_id) is False


def _selector(signature: str) -> int:
    return int.from_bytes(keccak(text=signature)[:4], "big")


def _abi_signatures(contract: object) -> set[str]:
    return {
        f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
        for entry in contract.abi  # type: ignore[attr-defined]
        if entry["type"] == "function"
    }


INTERFACES = {
    "erc165": (0x01FFC9A7, ["supportsInterface(bytes4)"]),
    "erc721": (
        0x80AC58CD,
        [
            "balanceOf(address)",
            "ownerOf(uint256)",
            "safeTransferFrom(address,address,uint256,bytes)",
            "safeTransferFrom(address,address,uint256)",
            "transferFrom(address,address,uint256)",
            "approve(address,uint256)",
            "setApprovalForAll(address,bool)",
            "getApproved(uint256)",
            "isApprovedForAll(address,address)",
        ],
    ),
}


@pytest.mark.parametrize("interface", INTERFACES, ids=list(INTERFACES))
def test_claimed_interface_is_implemented(registry: Registry, interface: str):
    """ERC-165: claiming an interface id promises every function behind it."""
    interface_id, signatures = INTERFACES[interface]
    assert reduce(xor, map(_selector, signatures)) == interface_id  # the table itself is right
    assert registry.contract.supportsInterface(interface_id.to_bytes(4, "big")) is True
    missing = set(signatures) - _abi_signatures(registry.contract)
    assert not missing, f"claims {interface} but lacks {sorted(missing)}"
