"""Where the browser tests leave their screenshots and timings, and the line that says so.

A pytest plugin (tests/conftest.py loads it) rather than hooks in tests/browser/conftest.py:
under xdist only the controlling process prints the summary, and it never collects, so it never
reads that conftest. The controller picks the folder and hands it to its workers through
$NUAGE_SCREENSHOTS (set it to choose the folder yourself).
"""

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

__all__ = ["PAINT_FILE", "screenshot_folder"]

ENV = "NUAGE_SCREENSHOTS"
PAINT_FILE = "first-paint.json"


def screenshot_folder() -> Path:
    """The folder of this run's screenshots, created on first use."""
    folder = Path(os.environ[ENV])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_configure(config: pytest.Config) -> None:
    if ENV not in os.environ and not hasattr(config, "workerinput"):  # xdist workers inherit it
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"nuage-screenshots-{stamp}-{os.getpid()}"
        os.environ[ENV] = str(Path(tempfile.gettempdir()) / name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    folder = Path(os.environ[ENV])
    shots = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if not shots:
        return
    terminalreporter.write_sep("-", "browser tests")
    terminalreporter.write_line(f"{len(shots)} screenshots in {folder}")
    paint = folder / PAINT_FILE
    if paint.is_file():
        for page, ms in json.loads(paint.read_text()).items():
            terminalreporter.write_line(f"first contentful paint of {page}: {ms:.0f} ms")
