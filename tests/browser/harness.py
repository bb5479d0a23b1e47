"""The browser tests' harness: how Chromium is started and pages opened, the devnet's explorer
as the tests see it, and waiting for its indexer (fixtures: conftest).

Playwright's own browser download needs hosts CI cannot reach, so the tests drive the Chromium
that scripts/setup.sh installs with apt, headless, with everything that would phone home off.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from nuage import devnet
from nuage.config import Settings
from tests.browser.screenshots import screenshot_folder

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root on CI, where Chromium refuses its own sandbox
    "--disable-dev-shm-usage",  # containers have a small /dev/shm
    # a closed network: nothing to fetch, sync or report
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
]
LAPTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
APPS = ("factorial", "sudoku")
T = TypeVar("T")
WAIT_MS = 30_000  # for anything the explorer shows once its indexer has caught up


@dataclass(frozen=True)
class Explorer:
    """The devnet's explorer, and where the devnet keeps its files."""

    url: str
    settings: Settings
    state: devnet.DevnetState

    def api(self, path: str) -> Any:
        response = httpx.get(self.url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def knows(self, path: str) -> bool:
        """Whether the API has something at `path` yet (its indexer follows the chain)."""
        return httpx.get(self.url + path, timeout=10).status_code == 200


@dataclass(frozen=True)
class FinishedTask:
    """A factorial 10 the requester bought and got back."""

    deal_id: str
    task_id: str


def open_page(browser: Browser, viewport: ViewportSize = LAPTOP) -> Page:
    """A page in a fresh context (its own cookies and cache), that accepts downloads."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """Saves the whole page as NAME.png in the run's screenshot folder."""
    path = screenshot_folder() / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    """Polls `condition` until it returns something true; fails the test saying what it awaited."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)
    return value
