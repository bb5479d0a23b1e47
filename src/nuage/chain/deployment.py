"""Where the protocol lives on a chain: deploying it, and the record that says so.

A deployment record is a small JSON file (chain id, the block of the first
deployment transaction, every contract's address). Every command and service
finds the contracts through it, and checks it against the node it talks to:
the node's chain id must be the record's, and the hub must have code there.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from nuage.chain.client import Chain
from nuage.exceptions import ConfigError, NotDeployed, WrongChain

__all__ = ["RLC_SUPPLY", "Deployment", "deploy_protocol"]

RLC_SUPPLY = 87_000_000 * 10**9  # nRLC, the supply of iExec's RLC


@dataclass(frozen=True)
class Deployment:
    """The protocol's addresses on one chain."""

    chain_id: int
    block: int  # where event watchers start
    rlc: str
    app_registry: str
    dataset_registry: str
    workerpool_registry: str
    hub: str
    market: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Deployment:
        names = {f.name for f in fields(cls)}
        missing = names - raw.keys()
        if missing:
            raise ConfigError(f"deployment record lacks {', '.join(sorted(missing))}")
        return cls(**{name: raw[name] for name in names})

    def save(self, path: Path) -> None:
        """Writes the record atomically (readers never see half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotDeployed(f"no deployment record at {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"deployment record {path} is not valid JSON: {error}") from None
        return cls.from_dict(raw)

    def check(self, chain: Chain) -> None:
        """Raises unless `chain` is this deployment's chain and the hub has code there."""
        if chain.chain_id != self.chain_id:
            raise WrongChain(
                f"the node at {chain.url} runs chain {chain.chain_id}, but the deployment is on "
                f"chain {self.chain_id}: point --rpc at a node of chain {self.chain_id}"
            )
        if not chain.has_code(self.hub):
            raise NotDeployed(
                f"no nuage hub at {self.hub} on chain {self.chain_id} ({chain.url}): the chain "
                "was reset since the deployment; on the devnet, `nuage devnet down` then "
                "`nuage devnet up` starts afresh"
            )


def deploy_protocol(
    chain: Chain, deployer: LocalAccount, *, supply: int = RLC_SUPPLY, record: Path | None = None
) -> Deployment:
    """Deploys RLC, the registries, the hub and the market, and binds the market to the hub.

    The deployer holds all RLC and owns the hub and the market. With `record`, the
    deployment record is written there.
    """
    rlc, first = chain.deploy("RLC", deployer, supply)
    apps, _ = chain.deploy("AppRegistry", deployer)
    datasets, _ = chain.deploy("DatasetRegistry", deployer)
    workerpools, _ = chain.deploy("WorkerpoolRegistry", deployer)
    hub, _ = chain.deploy("Hub", deployer, rlc.address)
    market, _ = chain.deploy(
        "Market", deployer, hub.address, apps.address, datasets.address, workerpools.address
    )
    chain.transact(hub.functions.bindMarket(market.address), deployer)
    deployment = Deployment(
        chain_id=chain.chain_id,
        block=int(first["blockNumber"]),
        rlc=rlc.address,
        app_registry=apps.address,
        dataset_registry=datasets.address,
        workerpool_registry=workerpools.address,
        hub=hub.address,
        market=market.address,
    )
    if record is not None:
        deployment.save(record)
    return deployment
