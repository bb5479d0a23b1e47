"""Keystores: standard encrypted files, refused with a reason when misused."""

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from nuage.config import Settings
from nuage.exceptions import ConfigError, WalletError
from nuage.wallet import Keystores, resolve_signer, signer_address

REQUESTER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def _never_asked(prompt: str) -> str:
    raise AssertionError(f"asked for a password: {prompt}")


@pytest.fixture
def keystores(tmp_path: Path) -> Keystores:
    return Keystores(tmp_path / "keystores")


def test_a_created_wallet_unlocks_with_its_password(keystores: Keystores) -> None:
    address = keystores.create("requester", "correct horse")
    assert keystores.unlock("requester", "correct horse").address == address
    assert keystores.address("requester") == address
    assert keystores.names() == ["requester"]


def test_the_keystore_is_standard_and_private(keystores: Keystores) -> None:
    keystores.create("requester", "pw")
    path = keystores.path("requester")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keystore = json.loads(path.read_text())
    assert keystore["version"] == 3 and keystore["crypto"]["kdf"] == "scrypt"
    Account.decrypt(keystore, "pw")  # any Ethereum tool reads it


def test_a_wrong_password_is_refused_by_name(keystores: Keystores) -> None:
    keystores.create("requester", "right")
    with pytest.raises(WalletError, match="wrong password for wallet 'requester'"):
        keystores.unlock("requester", "wrong")


def test_an_imported_key_keeps_its_address(keystores: Keystores) -> None:
    address = keystores.import_key("requester", REQUESTER_KEY, "pw")
    assert address == Account.from_key(REQUESTER_KEY).address


def test_an_imported_keystore_file_is_copied_as_it_is(keystores: Keystores, tmp_path: Path) -> None:
    source = tmp_path / "geth.json"
    source.write_text(json.dumps(Account.encrypt(REQUESTER_KEY, "pw")))
    assert keystores.import_file("requester", source) == Account.from_key(REQUESTER_KEY).address
    assert keystores.unlock("requester", "pw").key.hex().endswith(REQUESTER_KEY[2:])


@pytest.mark.parametrize(
    ("name", "complaint"), [("../escape", "not a wallet name"), ("", "not a wallet name")]
)
def test_bad_names_are_refused(keystores: Keystores, name: str, complaint: str) -> None:
    with pytest.raises(WalletError, match=complaint):
        keystores.create(name, "pw")


def test_an_existing_wallet_is_never_overwritten(keystores: Keystores) -> None:
    first = keystores.create("requester", "pw")
    with pytest.raises(WalletError, match="exists already"):
        keystores.import_key("requester", REQUESTER_KEY, "pw")
    assert keystores.address("requester") == first


def test_garbage_is_not_a_private_key(keystores: Keystores) -> None:
    with pytest.raises(WalletError, match="not a private key"):
        keystores.import_key("requester", "0x1234", "pw")
    assert keystores.names() == []


def test_a_file_without_crypto_is_not_a_keystore(keystores: Keystores, tmp_path: Path) -> None:
    source = tmp_path / "notes.json"
    source.write_text('{"address": "00"}')
    with pytest.raises(WalletError, match="not an Ethereum keystore"):
        keystores.import_file("requester", source)


def test_an_empty_password_is_refused(keystores: Keystores) -> None:
    with pytest.raises(WalletError, match="needs a password"):
        keystores.create("requester", "")


def test_the_only_wallet_signs_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUAGE_PASSWORD", raising=False)
    settings = Settings(home=tmp_path)
    address = Keystores(settings.keystores_dir).import_key("requester", REQUESTER_KEY, "pw")
    signer = resolve_signer(settings, role=None, wallet=None, password=lambda _: "pw")
    assert signer.address == address
    assert signer_address(settings, role=None, wallet=None) == address


def test_the_password_comes_from_the_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUAGE_PASSWORD", "pw")
    settings = Settings(home=tmp_path)
    Keystores(settings.keystores_dir).import_key("requester", REQUESTER_KEY, "pw")
    resolve_signer(settings, role=None, wallet="requester", password=_never_asked)


def test_several_wallets_need_a_name(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    keystores = Keystores(settings.keystores_dir)
    keystores.import_key("requester", REQUESTER_KEY, "pw")
    keystores.create("worker", "pw")
    with pytest.raises(ConfigError, match="several wallets"):
        resolve_signer(settings, role=None, wallet=None, password=_never_asked)


def test_no_wallet_and_no_role_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--as ROLE"):
        resolve_signer(Settings(home=tmp_path), role=None, wallet=None, password=_never_asked)


def test_a_role_without_a_devnet_says_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nuage devnet up"):
        resolve_signer(
            Settings(home=tmp_path), role="requester", wallet=None, password=_never_asked
        )


def test_an_unknown_wallet_lists_the_known_ones(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    Keystores(settings.keystores_dir).create("worker", "pw")
    with pytest.raises(WalletError, match=r"no wallet named 'requester'.*worker"):
        resolve_signer(settings, role=None, wallet="requester", password=_never_asked)
