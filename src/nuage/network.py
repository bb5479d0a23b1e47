"""Which chain and deployment a command talks to, checked before anything is sent.

In order: the RPC URL given (`--rpc`, `$NUAGE_RPC_URL`), else the running
devnet's. The deployment record: `--deployment`/`$NUAGE_DEPLOYMENT`, else the
one nuage keeps for the node's chain id. Then the node must answer, run that
chain, and have the hub's code: each failure is its own clear error.
"""

from __future__ import annotations

from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment
from nuage.config import Settings
from nuage.devnet import load_state
from nuage.exceptions import ConfigError, NotDeployed

__all__ = ["connect", "rpc_url", "service_url"]


def rpc_url(settings: Settings, rpc: str | None = None) -> str:
    url = rpc or settings.rpc_url
    if url:
        return url
    state = load_state(settings)
    if state is None:
        raise ConfigError(
            "no chain to talk to: start the local devnet with `nuage devnet up`, "
            "or pass --rpc URL (or set $NUAGE_RPC_URL)"
        )
    return state.rpc_url


def connect(settings: Settings, rpc: str | None = None) -> Contracts:
    """The protocol's contracts on the chain the settings point at, checked."""
    chain = Chain(rpc_url(settings, rpc))
    record = settings.deployment_file(chain.chain_id)
    try:
        deployment = Deployment.load(record)
    except NotDeployed:
        raise NotDeployed(
            f"nuage knows no deployment on chain {chain.chain_id} (no {record}): on the "
            "devnet, `nuage devnet up` deploys one; elsewhere pass --deployment FILE"
        ) from None
    return Contracts.connect(chain, deployment)


def service_url(settings: Settings, service: str, explicit: str | None, default: str) -> str:
    """Where a service (storage, market…) is: the URL given, else the devnet's, else `default`."""
    if explicit:
        return explicit
    state = load_state(settings)
    if state is not None and service in state.services:
        return state.services[service]
    return default
