"""The dapps' entry scripts imported in-process, to test their pure logic without a sandbox."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DAPPS = Path(__file__).resolve().parents[2] / "dapps"


def load_main(name: str) -> ModuleType:
    """`dapps/<name>/main.py` as a module of its own (every dapp's script is called main.py)."""
    module_name = f"dapp_{name.replace('-', '_')}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, DAPPS / name / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
