"""The explorer and DApp Store in a real browser, against a real devnet (issue 9).

Every page is loaded by headless Chromium from the explorer that `nuage devnet up` started;
the apps were deployed and published through the SDK, the live task is bought with the CLI.
"""

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from nuage.chain.anvil import free_port
from nuage.demo import APP_PRICE
from nuage.protocol.ids import task_id
from tests.browser.harness import (
    APPS,
    CHROMIUM,
    Explorer,
    FinishedTask,
    open_page,
    screenshot,
    wait_until,
)
from tests.browser.screenshots import PAINT_FILE, screenshot_folder

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: `apt-get install chromium` (as scripts/setup.sh does)",
    ),
]

NUAGE = Path(sys.executable).with_name("nuage")
COMPLETED_WITHIN_MS = 180_000  # a factorial on a devnet under load, generously


def wait_for_apps(explorer: Explorer) -> None:
    """Until the explorer's indexer has seen the example apps."""
    wait_until(
        lambda: all(f'"{name}"' in json.dumps(explorer.api("/api/apps")) for name in APPS),
        "the explorer to index the example apps",
    )


def visible_cards(page: Page) -> Locator:
    return page.get_by_test_id("app-card").filter(visible=True)


def card_named(page: Page, name: str) -> Locator:
    return page.get_by_test_id("app-card").filter(
        has=page.get_by_test_id("app-name").get_by_text(name, exact=True)
    )


@contextmanager
def paused_workers(explorer: Explorer) -> Iterator[None]:
    """The devnet's workers stopped (SIGSTOP), so a task bought meanwhile cannot progress."""
    workers = [
        psutil.Process(d.pid) for d in explorer.state.daemons if d.name.startswith("worker-")
    ]
    assert workers, explorer.state.daemons
    for worker in workers:
        worker.suspend()
    try:
        yield
    finally:
        for worker in workers:
            worker.resume()


# -- the DApp Store -----------------------------------------------------------------------------


def test_the_store_shows_the_deployed_apps_with_their_price(page: Page, explorer: Explorer):
    wait_for_apps(explorer)
    page.goto(explorer.url + "/")
    expect(page.get_by_test_id("app-grid")).to_be_visible()
    expect(visible_cards(page)).to_have_count(len(APPS))
    owner = explorer.state.accounts["app-owner"]["address"]
    for name in APPS:
        card = card_named(page, name)
        expect(card).to_have_count(1)
        expect(card.get_by_test_id("app-price")).to_have_text(
            re.compile(rf"^\s*{APP_PRICE}\s*nRLC\s*$")
        )
        expect(card.get_by_test_id("app-owner")).to_contain_text(owner[:6], ignore_case=True)
        expect(card.get_by_test_id("app-runs")).to_be_visible()
    expect(page.get_by_test_id("unreachable")).to_be_hidden()
    screenshot(page, "store")


def test_typing_in_the_search_box_filters_the_cards(page: Page, explorer: Explorer):
    wait_for_apps(explorer)
    page.goto(explorer.url + "/")
    search = page.get_by_test_id("app-search")
    search.press_sequentially("sudo")
    expect(visible_cards(page)).to_have_count(1)
    expect(visible_cards(page).get_by_test_id("app-name")).to_have_text("sudoku")
    screenshot(page, "store-search")

    search.fill("no such app")
    expect(visible_cards(page)).to_have_count(0)
    expect(page.get_by_test_id("app-empty")).to_be_visible()

    search.fill("")
    expect(visible_cards(page)).to_have_count(len(APPS))
    expect(page.get_by_test_id("app-empty")).to_be_hidden()


def test_the_query_in_the_address_filters_the_cards(page: Page, explorer: Explorer):
    wait_for_apps(explorer)
    page.goto(explorer.url + "/?q=fact")
    expect(visible_cards(page)).to_have_count(1)
    expect(visible_cards(page).get_by_test_id("app-name")).to_have_text("factorial")

    page.goto(explorer.url + "/?q=no+such+app")
    expect(page.get_by_test_id("app-empty")).to_be_visible()


def test_an_app_page_says_how_to_run_the_app(page: Page, explorer: Explorer):
    wait_for_apps(explorer)
    page.goto(explorer.url + "/")
    card_named(page, "factorial").click()
    expect(page).to_have_url(re.compile(r"/apps/0x[0-9a-fA-F]{40}$"))
    expect(page.get_by_test_id("app-title")).to_contain_text("factorial")
    expect(page.get_by_test_id("app-description")).to_contain_text("n!")
    expect(page.get_by_test_id("app-orders")).to_contain_text(str(APP_PRICE))
    cli = page.get_by_test_id("app-cli-snippet")
    expect(cli).to_contain_text("nuage run factorial")
    expect(cli).to_contain_text("--as requester")
    expect(page.get_by_test_id("app-sdk-snippet")).to_contain_text("Client")
    screenshot(page, "app")


# -- a task, live -------------------------------------------------------------------------------


def matched_deal(run: subprocess.Popen[str], stderr: Path) -> str | None:
    """The deal `nuage run` says it matched (`✓ deal 0x…`), once it has said so."""
    said = stderr.read_text()
    if found := re.search(r"deal (0x[0-9a-f]{64})", said):
        return found.group(1)
    if run.poll() is not None:
        pytest.fail(f"nuage run exited before matching a deal: {said}")
    return None


@contextmanager
def started(command: list[str], home: Path, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """`command` running with the devnet's $NUAGE_HOME, its stderr in cwd/stderr; killed at exit."""
    environment = os.environ | {"NUAGE_HOME": str(home)}
    with (cwd / "stderr").open("w") as errors:
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=errors, text=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout:
            process.stdout.close()


def task_row(page: Page, task: str) -> Locator:
    """The row of `task` in the tasks list (by its link, or its id when shown in full)."""
    rows = page.get_by_test_id("task-row")
    return rows.filter(has=page.locator(f'a[href$="{task}"]')).or_(rows.filter(has_text=task))


def test_a_task_bought_with_the_cli_completes_on_its_page_without_a_reload(
    page: Page, explorer: Explorer, tmp_path: Path
):
    command = [str(NUAGE), "run", "factorial", "10", "--as", "requester", "--deposit", "--json"]
    stderr = tmp_path / "stderr"
    listing = page.context.new_page()  # the tasks list, open beside the task's page
    pending = re.compile(r"^\s*(UNSET|ACTIVE)\s*$")
    completed = re.compile(r"^\s*COMPLETED\s*$")
    with started(command, explorer.settings.home, tmp_path) as run:
        with paused_workers(explorer):  # so the task cannot finish before the pages are open
            deal = wait_until(lambda: matched_deal(run, stderr), "`nuage run` to match a deal")
            task = "0x" + task_id(bytes.fromhex(deal[2:]), 0).hex()
            wait_until(lambda: explorer.knows(f"/api/tasks/{task}"), "the explorer to see the deal")
            page.goto(f"{explorer.url}/tasks/{task}")
            status = page.get_by_test_id("task-status")
            expect(status).to_have_text(pending)
            expect(page.get_by_test_id("task-result-download")).to_be_hidden()
            screenshot(page, "task-waiting")
            listing.goto(explorer.url + "/tasks")
            listed = task_row(listing, task).get_by_test_id("task-status")
            expect(listed).to_have_text(pending)
            for opened in (page, listing):
                opened.evaluate("window.__marker = 'loaded once'")
        expect(status).to_have_text(completed, timeout=COMPLETED_WITHIN_MS)
        expect(listed).to_have_text(completed)
        for opened in (page, listing):
            assert opened.evaluate("window.__marker") == "loaded once", f"{opened.url} reloaded"
        out, _ = run.communicate(timeout=COMPLETED_WITHIN_MS / 1000)
    assert run.returncode == 0, stderr.read_text()
    assert json.loads(out)["deal"] == deal
    for hook in ("task-contributions", "task-consensus", "task-logs-link"):
        expect(page.get_by_test_id(hook)).to_be_visible()
    screenshot(page, "task-completed")

    with page.expect_download() as download:
        page.get_by_test_id("task-result-download").click()
    archive = Path(download.value.path())
    assert archive.stat().st_size > 0
    with zipfile.ZipFile(archive) as result:
        contents = b"".join(result.read(name) for name in result.namelist())
    assert b"3628800" in contents


# -- an unreachable market ----------------------------------------------------------------------


@contextmanager
def explorer_serving(explorer: Explorer, market: str, log: Path) -> Iterator[str]:
    """A second explorer, of the same chain, told to read the market at `market`; its URL."""
    port = free_port()
    command = [
        str(NUAGE), "explorer", "serve", "--port", str(port), "--rpc", explorer.state.rpc_url,
        "--market", market, "--db", str(log.with_suffix(".db")),
    ]  # fmt: skip
    for service in ("scheduler", "storage"):
        if service in explorer.state.services:
            command += [f"--{service}", explorer.state.services[service]]
    environment = os.environ | {"NUAGE_HOME": str(explorer.settings.home)}
    with log.open("w") as output:
        server = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if server.poll() is not None:
            pytest.fail(f"nuage explorer serve exited: {log.read_text()}")
        try:
            return httpx.get(url + "/api/health", timeout=5).status_code < 500
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, "the second explorer to answer", timeout=60)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_unreachable_market_shows_a_message_and_the_pages_still_render(
    page: Page, explorer: Explorer, tmp_path: Path
):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with explorer_serving(explorer, closed, tmp_path / "explorer.log") as url:
        for path in ("/", "/market"):
            page.goto(url + path)
            banner = page.get_by_test_id("unreachable")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text("market unreachable")
            expect(banner).to_contain_text(closed.removeprefix("http://"))
            expect(banner).not_to_contain_text("chain unreachable")
            expect(page.get_by_test_id("nav")).to_be_visible()
        screenshot(page, "market-unreachable")
        page.goto(url + "/")
        expect(page.get_by_test_id("app-grid")).to_be_visible()


# -- phone width, first paint, every page --------------------------------------------------------


def test_the_store_and_a_task_fit_a_phone_width(
    phone: Page, explorer: Explorer, finished_task: FinishedTask
):
    wait_for_apps(explorer)
    for name, path in (("phone-store", "/"), ("phone-task", f"/tasks/{finished_task.task_id}")):
        phone.goto(explorer.url + path)
        expect(phone.get_by_test_id("nav")).to_be_visible()
        widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{path} overflows a 390 px screen: {widths[0]} px wide"
        screenshot(phone, name)


def test_first_contentful_paint_of_the_store_and_a_task(
    browser: Browser, explorer: Explorer, finished_task: FinishedTask
):
    """Recorded next to the screenshots; asserted only against a bound no page should reach."""
    pages = {"/ (DApp Store)": "/", "a task page": f"/tasks/{finished_task.task_id}"}
    paints = {}
    for label, path in pages.items():
        page = open_page(browser)
        try:
            page.goto(explorer.url + path)
            paints[label] = page.wait_for_function(
                "performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
            ).json_value()
        finally:
            page.context.close()
    (screenshot_folder() / PAINT_FILE).write_text(json.dumps(paints, indent=2) + "\n")
    print(f"first contentful paint, ms: {paints}")
    assert all(0 < ms < 5_000 for ms in paints.values()), paints


def test_every_page_renders_from_the_explorers_own_assets(
    page: Page, explorer: Explorer, finished_task: FinishedTask
):
    wait_for_apps(explorer)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    requester = explorer.state.accounts["requester"]["address"]
    app = card_address(page, explorer, "factorial")
    pages = [
        ("store", "/", "app-grid"),
        ("app-page", f"/apps/{app}", "app-title"),
        ("submit", "/submit", "submit-steps"),
        ("market", "/market", "orderbook-app"),
        ("deals", "/deals", "deal-row"),
        ("deal", f"/deals/{finished_task.deal_id}", "deal-tasks"),
        ("tasks", "/tasks", "task-row"),
        ("task", f"/tasks/{finished_task.task_id}", "task-status"),
        ("pools", "/pools", "pool-row"),
        ("workers", "/workers", "worker-row"),
        ("account", f"/accounts/{requester}", "account-free"),
        ("account-by-query", f"/accounts?address={requester}", "account-frozen"),
    ]
    for name, path, hook in pages:
        page.goto(explorer.url + path)
        expect(page.get_by_test_id("nav")).to_be_visible()
        expect(page.get_by_test_id(hook).first).to_be_visible()
        expect(page.get_by_test_id("unreachable")).to_be_hidden()
        screenshot(page, name)
    elsewhere = [url for url in requested if not url.startswith(explorer.url + "/")]
    assert not elsewhere, f"assets from outside the explorer: {elsewhere}"


def card_address(page: Page, explorer: Explorer, name: str) -> str:
    """The address an app card links to."""
    page.goto(explorer.url + "/")
    href = card_named(page, name).get_attribute("href")
    assert href, f"the {name} card links nowhere"
    return href.rstrip("/").rsplit("/", 1)[-1]
