"""Compiled contracts, cached by the hash of their sources.

Vyper compiles the hub in seconds; every later use reads the cached ABI and
bytecode instead. The cache key covers every `.vy`/`.vyi` under the contracts
folder and the compiler's version, so any source change recompiles.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEPLOYABLES", "Artifact", "compile_all", "contracts_dir", "load"]

DEPLOYABLES = ("RLC", "AppRegistry", "DatasetRegistry", "WorkerpoolRegistry", "Hub", "Market")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes  # deployment (init) code
    runtime: bytes  # deployed code, what EIP-170 bounds


def contracts_dir() -> Path:
    """The Vyper sources: $NUAGE_CONTRACTS, else the repository's `contracts/`."""
    override = os.environ.get("NUAGE_CONTRACTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "contracts"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nuage" / "contracts"


def _source_key(root: Path) -> str:
    import vyper

    digest = hashlib.sha256(f"vyper {vyper.__version__}".encode())
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".vy", ".vyi")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def compile_all(root: Path | None = None) -> dict[str, Artifact]:
    """Every deployable contract, compiled once per source version."""
    root = root or contracts_dir()
    cache = _cache_dir() / f"{_source_key(root)}.json"
    if cache.exists():
        raw = json.loads(cache.read_text())
    else:
        raw = {name: _compile(root, name) for name in DEPLOYABLES}
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(raw))
        partial.replace(cache)  # atomic: concurrent compilers never see half a file
    return {
        name: Artifact(
            name=name,
            abi=entry["abi"],
            bytecode=bytes.fromhex(entry["bytecode"]),
            runtime=bytes.fromhex(entry["runtime"]),
        )
        for name, entry in raw.items()
    }


def load(name: str) -> Artifact:
    return compile_all()[name]


def _compile(root: Path, name: str) -> dict[str, Any]:
    from vyper.compiler import compile_from_file_input
    from vyper.compiler.input_bundle import FilesystemInputBundle

    bundle = FilesystemInputBundle([root])
    source = bundle.load_file(root / f"{name}.vy")
    out = compile_from_file_input(
        source, input_bundle=bundle, output_formats=["abi", "bytecode", "bytecode_runtime"]
    )
    return {
        "abi": out["abi"],
        "bytecode": out["bytecode"].removeprefix("0x"),
        "runtime": out["bytecode_runtime"].removeprefix("0x"),
    }
