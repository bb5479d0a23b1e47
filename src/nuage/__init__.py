"""nuage: a decentralized cloud. `nuage.Client` is the Python SDK (see `nuage.client`)."""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nuage.client import Client

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # the SDK pulls in web3 and the chain stack: imported when first used, not with `nuage`
    if name == "Client":
        from nuage.client import Client

        return Client
    raise AttributeError(f"module 'nuage' has no attribute {name!r}")
