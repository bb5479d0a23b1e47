"""Browser fixtures: Debian's Chromium driven by Playwright, and one devnet per module with the
explorer running and the example apps deployed and on sale.

Playwright's own browser download needs hosts CI cannot reach, so the tests drive the Chromium
that scripts/setup.sh installs with apt, headless, with everything that would phone home off.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from nuage import devnet
from nuage.chain.anvil import free_port
from nuage.client import Client
from nuage.config import Settings
from nuage.demo import APP_PRICE, DAPPS
from tests.browser.screenshots import screenshot_folder
from tests.integration.cli import Nuage

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per module.

    Not one per session: while Playwright's sync API is started, its event loop counts as
    running on this thread, and other modules' tests in the same xdist worker call asyncio.run.
    """
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, viewport: ViewportSize = LAPTOP) -> Page:
    """A page in a fresh context (its own cookies and cache), that accepts downloads."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = open_page(browser)
    yield opened
    opened.context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    opened = open_page(browser, PHONE)
    yield opened
    opened.context.close()


def screenshot(page: Page, name: str) -> Path:
    """Saves the whole page as NAME.png in the run's screenshot folder."""
    path = screenshot_folder() / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Explorer]:
    """A devnet of one worker with its explorer; factorial and sudoku deployed and on sale."""
    nuage = Nuage(tmp_path_factory.mktemp("explorer") / "home")
    settings = Settings(home=nuage.home)
    with pytest.MonkeyPatch.context() as env:
        for name in ("NUAGE_RPC_URL", "NUAGE_DEPLOYMENT", "NUAGE_WALLET", "NUAGE_PASSWORD"):
            env.delenv(name, raising=False)
        env.delenv("NUAGE_STORAGE_URL", raising=False)
        try:
            nuage.devnet_up("--explorer-port", str(free_port()))
            owner = Client.devnet("app-owner", home=nuage.home)
            for name in APPS:
                owner.deploy_app(DAPPS / name)
                owner.publish_app(name, APP_PRICE)
            state = devnet.load_state(settings)
            assert state is not None and "explorer" in state.services, state
            yield Explorer(state.services["explorer"].rstrip("/"), settings, state)
        finally:
            devnet.down(settings)


@pytest.fixture(scope="module")
def finished_task(explorer: Explorer, tmp_path_factory: pytest.TempPathFactory) -> FinishedTask:
    """For the pages that need a deal and a task: factorial 10, run and finished."""
    requester = Client.devnet("requester", home=explorer.settings.home)
    run = requester.run("factorial", ["10"], deposit=True)
    result = run.result(timeout=300, into=tmp_path_factory.mktemp("result"))
    assert result.text == "3628800", result
    return FinishedTask(run.deal_id, run.task_ids[0])
