"""The devnet, wallets and accounts through the `nuage` command, as a person uses them."""

from pathlib import Path

import psutil
import pytest

from nuage import devnet
from nuage.chain.anvil import Anvil, free_port
from nuage.chain.client import Chain
from nuage.config import Settings
from tests.integration.cli import Nuage

pytestmark = pytest.mark.integration


def test_the_acceptance_journey(nuage: Nuage) -> None:
    """devnet up, deposit 10 as the requester, see 10 RLC free, devnet down stops everything."""
    nuage.devnet_up("--workers", "3")
    state = devnet.load_state(Settings(home=nuage.home))
    assert state is not None
    names = ["anvil", "storage", "market", "explorer", "scheduler"]
    names += ["worker-1", "worker-2", "worker-3"]
    assert [daemon.name for daemon in state.daemons] == names

    nuage("account", "deposit", "10", "--as", "requester")
    shown = nuage.json("account", "show", "--as", "requester")
    assert shown["free"] == "10" and shown["frozen"] == "0"

    down = nuage("devnet", "down")
    assert "stopped: " + ", ".join(reversed(names)) in " ".join(down.stdout.split())
    assert not (nuage.home / "devnet" / "market.db").exists()
    assert not (nuage.home / "devnet" / "explorer.db").exists()
    for daemon in state.daemons:
        assert not daemon.running()
        assert not psutil.pid_exists(daemon.pid) or psutil.Process(daemon.pid).status() == "zombie"
    assert not (nuage.home / "devnet" / "devnet.json").exists()
    assert not (nuage.home / "deployments" / "31337.json").exists()
    assert nuage.json("devnet", "status") == {"up": False}


def test_up_twice_says_it_is_already_up(running: Nuage) -> None:
    again = running("devnet", "up")
    assert "already up" in again.stdout
    assert running.json("devnet", "up")["already_up"] is True


def test_status_lists_the_chain_contracts_and_roles(running: Nuage) -> None:
    status = running.json("devnet", "status")
    assert status["up"] is True and status["chain_id"] == 31337
    assert status["processes"]["anvil"]["running"] is True
    assert status["processes"]["explorer"]["running"] is True
    assert status["services"]["explorer"].startswith("http://127.0.0.1:")
    assert "explorer" in running("devnet", "status").stdout
    assert {"requester", "app-owner", "dataset-owner", "pool-owner", "worker-1"} <= set(
        status["accounts"]
    )


def test_withdraw_returns_free_rlc_to_the_wallet(running: Nuage) -> None:
    running("account", "deposit", "10", "--as", "requester")
    before = running.json("account", "show", "--as", "requester")
    running("account", "withdraw", "2.5", "--as", "requester")
    after = running.json("account", "show", "--as", "requester")
    assert after["free"] == "7.5"
    assert float(after["wallet"]) == float(before["wallet"]) + 2.5


def test_a_wallet_created_imported_funded_and_used(running: Nuage) -> None:
    created = running.json("wallet", "create", "alice", NUAGE_PASSWORD="s3cret")
    address = created["address"]
    running("wallet", "send-rlc", "5", "alice", "--as", "requester")
    running("wallet", "send-rlc", "0.01", address, "--as", "deployer")  # an address works too
    state = devnet.load_state(Settings(home=running.home))
    assert state is not None
    Chain(state.rpc_url).fund_eth(address, 10**18)  # gas money
    running("account", "deposit", "5", "--wallet", "alice", NUAGE_PASSWORD="s3cret")
    shown = running.json("wallet", "show", "alice")
    assert shown["hub"] == {"free": "5", "frozen": "0"}
    assert shown["rlc"] == "0.01"


def test_the_errors_a_person_meets(running: Nuage) -> None:
    def refused(*args: str, **env: str) -> str:
        result = running(*args, ok=False, **env)
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        return " ".join(result.output.split())

    assert "cannot deposit" in refused("account", "deposit", "2000000", "--as", "requester")
    assert "cannot withdraw 1" in refused("account", "withdraw", "1", "--as", "requester")
    assert "not an amount" in refused("account", "deposit", "ten", "--as", "requester")
    assert "no devnet account for role 'boss'" in refused("account", "show", "--as", "boss")
    assert "does not answer" in refused(
        "account", "show", "--as", "requester", "--rpc", f"http://127.0.0.1:{free_port()}"
    )
    running.json("wallet", "create", "alice", NUAGE_PASSWORD="right")
    assert "wrong password for wallet 'alice'" in refused(
        "account", "deposit", "1", "--wallet", "alice", NUAGE_PASSWORD="wrong"
    )
    assert "the contract refused: escrow: zero amount" in refused(
        "account", "deposit", "0", "--as", "requester"
    )
    running("wallet", "send-rlc", "1", "alice", "--as", "requester")
    assert "needs about" in refused(  # alice has RLC but no ETH for gas
        "account", "deposit", "1", "--wallet", "alice", NUAGE_PASSWORD="right"
    )


def test_commands_without_a_devnet_say_how_to_start_one(nuage: Nuage) -> None:
    result = nuage("account", "show", "--as", "requester", ok=False)
    assert result.exit_code == 1
    assert "nuage devnet up" in result.output


def test_a_chain_without_deployment_is_named(nuage: Nuage) -> None:
    with Anvil() as bare:
        result = nuage("account", "show", "--wallet", "x", "--rpc", bare.url, ok=False)
        assert "no wallet named 'x'" in result.output
        nuage("wallet", "create", "x", NUAGE_PASSWORD="pw")
        result = nuage("account", "show", "--rpc", bare.url, ok=False)
        assert "knows no deployment on chain 31337" in " ".join(result.output.split())


def test_real_block_times(nuage: Nuage) -> None:
    nuage(
        "devnet",
        "up",
        "--port",
        str(free_port()),
        "--storage-port",
        str(free_port()),
        "--block-time",
        "1",
    )
    assert nuage.json("devnet", "status")["block_time"] == 1
    nuage("account", "deposit", "3", "--as", "requester")
    assert nuage.json("account", "show", "--as", "requester")["free"] == "3"


def test_the_devnet_storage_keeps_blobs(running: Nuage, tmp_path: Path) -> None:
    original = tmp_path / "input.txt"
    original.write_bytes(b"inputs for a task\n" * 1000)
    blob = running.json("storage", "put", str(original))["id"]
    copy = tmp_path / "copy.txt"
    running("storage", "get", blob, "-o", str(copy))
    assert copy.read_bytes() == original.read_bytes()
