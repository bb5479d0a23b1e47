"""The README's SDK example runs as written, on a devnet with the example apps published."""

import re
from pathlib import Path

import pytest

from nuage.client import Client
from nuage.demo import APP_PRICE, DAPPS
from tests.integration.cli import Nuage

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_sdk_example_prints_3628800(
    running: Nuage, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = Client.devnet("app-owner", home=running.home)
    owner.deploy_app(DAPPS / "factorial")
    owner.publish_app("factorial", APP_PRICE)
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    monkeypatch.setenv("NUAGE_HOME", str(running.home))
    monkeypatch.chdir(running.home)  # results/ lands there
    exec(compile(example, str(README), "exec"), {})
    assert capsys.readouterr().out.strip() == "3628800"
