"""Who signs: encrypted keystores, devnet role accounts, and choosing between them.

Keystores are the standard Ethereum v3 JSON files (scrypt), the format geth,
Foundry and MetaMask exchange, kept in `$NUAGE_HOME/keystores/<name>.json` with
mode 0600. Their password comes from `$NUAGE_PASSWORD` or a prompt; private
keys never appear in arguments, logs or the process list.

On the devnet, `--as ROLE` (requester, app-owner, dataset-owner, pool-owner,
worker-N, deployer) signs with that role's test account instead.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from nuage.config import Settings
from nuage.devnet import load_state
from nuage.exceptions import ConfigError, WalletError

__all__ = ["Keystores", "resolve_signer", "signer_address"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PasswordSource = Callable[[str], str]  # prompt text -> password


class Keystores:
    """The encrypted keystores in one folder, by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise WalletError(
                f"{name!r} is not a wallet name: use letters, digits, '.', '_' or '-' "
                "(at most 64, starting with a letter or digit)"
            )
        return self.folder / f"{name}.json"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def create(self, name: str, password: str) -> str:
        """A new random key, saved encrypted under `name`; returns its address."""
        return self._save(name, Account.create(), password)

    def import_key(self, name: str, private_key: str, password: str) -> str:
        """Saves an existing private key (hex, with or without 0x) encrypted under `name`."""
        try:
            account = Account.from_key(private_key.strip())
        except (ValueError, TypeError):
            raise WalletError(
                "that is not a private key: expected 64 hexadecimal digits, with or without 0x"
            ) from None
        return self._save(name, account, password)

    def import_file(self, name: str, source: Path) -> str:
        """Copies a keystore file made elsewhere (geth, Foundry…) under `name`."""
        keystore = _read_keystore(source)
        target = self._free_path(name)
        _write_private(target, keystore)
        return _keystore_address(keystore, source)

    def address(self, name: str) -> str:
        """The wallet's address, read without its password."""
        path = self._existing(name)
        return _keystore_address(_read_keystore(path), path)

    def unlock(self, name: str, password: str) -> LocalAccount:
        path = self._existing(name)
        try:
            key = Account.decrypt(_read_keystore(path), password)
        except ValueError:
            raise WalletError(
                f"wrong password for wallet {name!r}: type it again, or check $NUAGE_PASSWORD"
            ) from None
        return Account.from_key(key)

    def _save(self, name: str, account: LocalAccount, password: str) -> str:
        if not password:
            raise WalletError("a wallet needs a password: an empty one would not protect the key")
        target = self._free_path(name)
        _write_private(target, Account.encrypt(account.key, password))
        return str(account.address)

    def _free_path(self, name: str) -> Path:
        path = self.path(name)
        if path.exists():
            raise WalletError(
                f"a wallet named {name!r} exists already ({path}): choose another name"
            )
        return path

    def _existing(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none yet"
            raise WalletError(
                f"no wallet named {name!r} in {self.folder} (wallets: {known}): "
                "`nuage wallet create NAME` makes one"
            )
        return path


def resolve_signer(
    settings: Settings,
    *,
    role: str | None,
    wallet: str | None,
    password: PasswordSource,
) -> LocalAccount:
    """The account that signs: a devnet role, a named wallet, or the only wallet there is."""
    if role and wallet:
        raise ConfigError("say who signs once: --as ROLE (devnet) or --wallet NAME, not both")
    if role:
        state = load_state(settings)
        if state is None:
            raise ConfigError(
                f"--as {role} uses the devnet's accounts, but no devnet is up: "
                "`nuage devnet up` starts one"
            )
        return state.account(role)
    keystores = Keystores(settings.keystores_dir)
    name = wallet or settings.wallet or _only_wallet(keystores)
    keystores.address(name)  # a clear error for a wrong name before asking for a password
    return keystores.unlock(name, _password(password, name))


def signer_address(settings: Settings, *, role: str | None, wallet: str | None) -> str:
    """The address `resolve_signer` would use, without unlocking anything."""
    if role and not wallet:
        state = load_state(settings)
        if state is None:
            raise ConfigError(f"--as {role} needs the devnet: `nuage devnet up` starts one")
        return state.account(role).address
    if role and wallet:
        raise ConfigError("say who signs once: --as ROLE (devnet) or --wallet NAME, not both")
    keystores = Keystores(settings.keystores_dir)
    return keystores.address(wallet or settings.wallet or _only_wallet(keystores))


def _only_wallet(keystores: Keystores) -> str:
    names = keystores.names()
    if len(names) == 1:
        return names[0]
    if not names:
        raise ConfigError(
            "who signs? Pass --as ROLE to use a devnet account (e.g. --as requester), or "
            "create a wallet with `nuage wallet create NAME`"
        )
    raise ConfigError(
        f"who signs? There are several wallets ({', '.join(names)}): pass --wallet NAME "
        "or set $NUAGE_WALLET"
    )


def _password(source: PasswordSource, name: str) -> str:
    from_env = os.environ.get("NUAGE_PASSWORD")
    return from_env if from_env is not None else source(f"password for wallet {name!r}")


def _read_keystore(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise WalletError(f"no keystore file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as error:
        raise WalletError(f"{path} is not a keystore: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("crypto") or raw.get("Crypto"), dict):
        raise WalletError(f"{path} is not an Ethereum keystore (no 'crypto' section)")
    return raw


def _keystore_address(keystore: dict[str, Any], path: Path) -> str:
    address = keystore.get("address")
    if not isinstance(address, str):
        raise WalletError(f"keystore {path} does not say its address")
    try:
        return str(Web3.to_checksum_address("0x" + address.removeprefix("0x")))
    except ValueError:
        raise WalletError(f"keystore {path} has an invalid address {address!r}") from None


def _write_private(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(content, file)
