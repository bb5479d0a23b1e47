"""Every example dapp through the real pipeline: market, chain, the devnet pool, a sandbox,
storage, and back to the requester."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from nuage import devnet
from nuage.chain.anvil import free_port
from nuage.client import Client
from nuage.config import Settings
from nuage.demo import APP_PRICE, DAPPS

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def requester(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    settings = Settings(home=tmp_path_factory.mktemp("dapps") / "home")
    ports = {name: free_port() for name in ("port", "storage_port", "market_port")}
    devnet.up(settings, workers=2, scheduler_port=free_port(), **ports)
    try:
        owner = Client.devnet("app-owner", home=settings.home)
        for name in ("factorial", "sudoku", "vanitygen", "wordcloud", "image-transform", "plot"):
            owner.deploy_app(DAPPS / name)
            owner.publish_app(name, APP_PRICE)
        yield Client.devnet("requester", home=settings.home)
    finally:
        devnet.down(settings)


def _run(client: Client, tmp_path: Path, app: str, args: list[str], inputs: list[str] = []):  # noqa: B006
    run = client.run(app, args, input_files=[DAPPS / app / name for name in inputs], deposit=True)
    return run.result(timeout=180, into=tmp_path / app)


def test_factorial(requester: Client, tmp_path: Path) -> None:
    assert _run(requester, tmp_path, "factorial", ["10"]).text == "3628800"


def test_sudoku(requester: Client, tmp_path: Path) -> None:
    rows = (_run(requester, tmp_path, "sudoku", [], ["samples/grid.txt"]).text or "").split()
    assert len(rows) == 9 and all(sorted(row) == list("123456789") for row in rows)


def test_vanitygen(requester: Client, tmp_path: Path) -> None:
    result = _run(requester, tmp_path, "vanitygen", ["be", "seed"])
    found = json.loads((result.directory / "address.json").read_text())
    assert found["address"].lower().startswith("0xbe")
    assert Account.from_key(found["private-key"]).address == found["address"]


def test_wordcloud(requester: Client, tmp_path: Path) -> None:
    result = _run(requester, tmp_path, "wordcloud", [], ["samples/text.txt"])
    assert (result.directory / "wordcloud.png").read_bytes().startswith(PNG)


def test_image_transform(requester: Client, tmp_path: Path) -> None:
    result = _run(
        requester, tmp_path, "image-transform", ["resize:64x48", "grayscale"],
        ["samples/landscape.jpg"],
    )  # fmt: skip
    assert (result.directory / "output.png").read_bytes().startswith(PNG)


def test_plot(requester: Client, tmp_path: Path) -> None:
    result = _run(requester, tmp_path, "plot", ["kind=bar", "title=Rain"], ["samples/weather.csv"])
    assert (result.directory / "plot.png").read_bytes().startswith(PNG)


def test_bad_input_comes_back_as_the_apps_error(requester: Client, tmp_path: Path) -> None:
    result = _run(requester, tmp_path, "factorial", ["-3"])
    assert (result.error and "factorial" not in result.error.lower()) or result.error
