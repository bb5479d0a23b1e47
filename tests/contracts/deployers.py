"""Every deployable contract, compiled once per test session."""

from pathlib import Path

import boa

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"

RLC = boa.load_partial(str(CONTRACTS / "RLC.vy"))
APP_REGISTRY = boa.load_partial(str(CONTRACTS / "AppRegistry.vy"))
DATASET_REGISTRY = boa.load_partial(str(CONTRACTS / "DatasetRegistry.vy"))
WORKERPOOL_REGISTRY = boa.load_partial(str(CONTRACTS / "WorkerpoolRegistry.vy"))
HUB = boa.load_partial(str(CONTRACTS / "Hub.vy"))
MARKET = boa.load_partial(str(CONTRACTS / "Market.vy"))
