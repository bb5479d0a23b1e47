"""`make demo` (nuage demo): the whole network doing real work, on a devnet of its own."""

from pathlib import Path

import pytest
from rich.console import Console

from nuage import devnet
from nuage.chain.anvil import free_port
from nuage.config import Settings
from nuage.demo import run_demo

pytestmark = pytest.mark.integration


def test_the_demo_runs_factorial_sudoku_and_wordcloud_through_the_network(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    console = Console(record=True, width=200)
    ports = {name: free_port() for name in ("port", "storage_port", "market_port")}
    try:
        status = run_demo(
            console, settings, results=tmp_path / "results", scheduler_port=free_port(), **ports
        )
        text = console.export_text()
        assert status == 0, text
        assert "3628800" in text
        assert "534678912" in text  # the bundled grid's first solved row
        png = tmp_path / "results" / "wordcloud" / "wordcloud.png"
        assert png.read_bytes().startswith(b"\x89PNG")
        assert "The devnet keeps running" in text
        state = devnet.load_state(settings)
        assert state is not None and all(d.running() for d in state.daemons)

        again = Console(record=True, width=200)  # a second demo reuses the devnet and the apps
        assert run_demo(again, settings, apps=["factorial"], results=tmp_path / "again") == 0
        assert "devnet already up" in again.export_text()
    finally:
        devnet.down(settings)
