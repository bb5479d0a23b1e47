"""vanitygen: the first key sha256(seed || counter) whose address has the prefix, same on every
worker; checked against an independent implementation (eth-account) and known vectors."""

import hashlib
import json

import pytest
from eth_account import Account

from nuage.apps import build
from tests.dapps.conftest import DAPPS, Dapps
from tests.dapps.modules import load_main

vanitygen = load_main("vanitygen")


def first_match(prefix: str, seed: str) -> tuple[str, int]:
    """(address, attempts) found by eth-account: another implementation of the same search."""
    counter = 0
    while True:
        key = hashlib.sha256(seed.encode() + counter.to_bytes(8, "big")).digest()
        address = Account.from_key(key).address
        if address[2:].lower().startswith(prefix):
            return address, counter + 1
        counter += 1


@pytest.mark.integration
def test_the_address_has_the_prefix_and_belongs_to_the_key(dapps: Dapps) -> None:
    run = dapps.run("vanitygen", "0xAB", "nuage demo")
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/address.json"}
    found = json.loads(run.output.read_text())
    assert found["address"].lower().startswith("0xab")
    assert Account.from_key(found["private-key"]).address == found["address"]  # EIP-55 too
    assert (found["address"], found["attempts"]) == first_match("ab", "nuage demo")
    assert found["prefix"] == "ab" and found["seed"] == "nuage demo"


@pytest.mark.integration
def test_two_runs_give_the_same_bytes(dapps: Dapps) -> None:
    first = dapps.run("vanitygen", "c0f", "seed", env={"PYTHONHASHSEED": "1"})
    second = dapps.run("vanitygen", "c0f", "seed", env={"PYTHONHASHSEED": "2"})
    assert first.result.ok, first.logs()
    assert first.files() == second.files()


@pytest.mark.integration
def test_a_prefix_too_long_is_refused_with_a_reason(dapps: Dapps) -> None:
    run = dapps.run("vanitygen", "deadb", "seed")
    assert run.result.exit_code == 1
    assert run.computed["error-message"].startswith("PREFIX must have 1 to 4 hex digits (got 5)")
    assert run.output.name == "error.txt"


@pytest.mark.integration
def test_vendored_requirements_pack_into_the_same_bytes(
    dapps: Dapps, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = build(DAPPS / "vanitygen", tmp_path_factory.mktemp("again") / "vanitygen.zip")
    assert again.sha256 == dapps.built("vanitygen").sha256


def test_the_address_of_key_1_is_the_known_one() -> None:
    key = (1).to_bytes(32, "big")
    assert vanitygen.address_of(key) == "7e5f4552091a69125d5dfcb7b8c2659029395bdf"


def test_keccak_is_not_sha3() -> None:
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert vanitygen.keccak256(b"").hex() == empty
    assert hashlib.sha3_256(b"").hexdigest() != empty


@pytest.mark.parametrize(  # the vectors of EIP-55
    "address",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_addresses_carry_the_eip55_checksum(address: str) -> None:
    assert vanitygen.checksummed(address[2:].lower()) == address


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["ab"], "expected two arguments, PREFIX"),
        (["", "seed"], "PREFIX must have 1 to 4 hex digits \\(got 0\\)"),
        (["0x", "seed"], "PREFIX must have 1 to 4 hex digits \\(got 0\\)"),
        (["12345", "seed"], "got 5"),
        (["abg", "seed"], "PREFIX must be hex digits"),
        (["ab", ""], "SEED must not be empty"),
        (["ab", "x" * 1025], "SEED must be at most 1024 bytes"),
    ],
)
def test_bad_arguments_say_what_to_send(args: list[str], complaint: str) -> None:
    with pytest.raises(vanitygen.BadInput, match=complaint):
        vanitygen.parse(args)
