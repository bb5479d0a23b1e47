"""Dataset fields and a way to register them."""

from dataclasses import astuple, dataclass, replace
from hashlib import sha256

import boa

from tests.contracts.harness import Actor, Protocol


@dataclass(frozen=True)
class DatasetFields:
    """createDataset's arguments, in order."""

    owner: str
    name: str
    multiaddr: bytes
    checksum: bytes

    def args(self) -> tuple[object, ...]:
        return astuple(self)

    def but(self, **changes: object) -> "DatasetFields":
        return replace(self, **changes)


def mnist(owner: Actor) -> DatasetFields:
    return DatasetFields(
        owner=owner.address,
        name="mnist",
        multiaddr=b"/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        checksum=sha256(b"mnist.tar").digest(),
    )


def create_dataset(protocol: Protocol, caller: Actor, fields: DatasetFields) -> str:
    with boa.env.prank(caller.address):
        return str(protocol.datasets.createDataset(*fields.args()))
