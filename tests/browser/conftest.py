"""Browser fixtures: Debian's Chromium driven by Playwright (tests/browser/harness.py), and one
devnet per module with the explorer running and the example apps deployed and on sale."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from nuage import devnet
from nuage.client import Client
from nuage.config import Settings
from nuage.demo import APP_PRICE, DAPPS
from tests.browser.harness import (
    APPS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    Explorer,
    FinishedTask,
    open_page,
    wait_until,
)
from tests.integration.cli import Nuage


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
            nuage.devnet_up()  # on free ports, the explorer too
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
    task = run.task_ids[0]
    wait_until(  # the explorer's indexer follows the chain, a poll behind
        lambda: (
            explorer.knows(f"/api/tasks/{task}")
            and explorer.api(f"/api/tasks/{task}")["status"] == "COMPLETED"
        ),
        f"the explorer to see task {task} completed",
    )
    return FinishedTask(run.deal_id, task)
