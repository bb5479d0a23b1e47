"""App fields and a way to register them."""

from dataclasses import astuple, dataclass, replace
from hashlib import sha256

import boa

from tests.contracts.harness import BUNDLE, DOCKER, Actor, Protocol

__all__ = ["BUNDLE", "DOCKER", "AppFields", "create_app", "docker_app"]


@dataclass(frozen=True)
class AppFields:
    """createApp's arguments, in order."""

    owner: str
    name: str
    app_type: int
    multiaddr: bytes
    checksum: bytes
    mrenclave: bytes

    def args(self) -> tuple[object, ...]:
        return astuple(self)

    def but(self, **changes: object) -> "AppFields":
        return replace(self, **changes)


def docker_app(owner: Actor) -> AppFields:
    """A TEE docker app with every field set."""
    return AppFields(
        owner=owner.address,
        name="tensorflow-serving",
        app_type=DOCKER,
        multiaddr=b"registry.hub.docker.com/nuage/tf-serving:2.15",
        checksum=sha256(b"image digest").digest(),
        mrenclave=bytes.fromhex("c0ffee") + sha256(b"enclave").digest(),
    )


def create_app(protocol: Protocol, caller: Actor, fields: AppFields) -> str:
    with boa.env.prank(caller.address):
        return str(protocol.apps.createApp(*fields.args()))
