"""wordcloud: a text in, a PNG of its words out, the same bytes on every run."""

from pathlib import Path

import pytest

from tests.dapps import png
from tests.dapps.conftest import DAPPS, Dapps
from tests.dapps.modules import load_main

wordcloud = load_main("wordcloud")

TEXT = (DAPPS / "wordcloud" / "samples" / "text.txt").read_bytes()
WHITE = (255, 255, 255)


@pytest.mark.integration
def test_the_sample_text_gives_a_cloud(dapps: Dapps) -> None:
    run = dapps.run("wordcloud", inputs={"text.txt": TEXT})
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/wordcloud.png"}
    image = png.decode(run.output.read_bytes())
    assert (image.width, image.height, image.channels) == (800, 400, 3)
    colors = image.colors()
    assert colors.most_common(1)[0][0] == WHITE  # the background
    assert sum(colors.values()) - colors[WHITE] > 800 * 400 // 5  # words cover the rest
    assert len(colors) > 100  # many colours and their anti-aliased edges


@pytest.mark.integration
def test_the_size_is_the_one_asked(dapps: Dapps) -> None:
    run = dapps.run("wordcloud", "300", "200", inputs={"text.txt": TEXT})
    assert run.result.ok, run.logs()
    image = png.decode(run.output.read_bytes())
    assert (image.width, image.height) == (300, 200)


@pytest.mark.integration
def test_a_dataset_is_drawn_when_no_input_file_is_given(dapps: Dapps) -> None:
    from_dataset = dapps.run("wordcloud", "300", "200", dataset=("corpus.txt", TEXT))
    from_input = dapps.run("wordcloud", "300", "200", inputs={"text.txt": TEXT})
    assert from_dataset.result.ok, from_dataset.logs()
    assert from_dataset.output.read_bytes() == from_input.output.read_bytes()


@pytest.mark.integration
def test_two_runs_give_the_same_bytes(dapps: Dapps) -> None:
    # a different hash seed each run: no set or dict order may leak into the layout
    first = dapps.run("wordcloud", inputs={"text.txt": TEXT}, env={"PYTHONHASHSEED": "1"})
    second = dapps.run("wordcloud", inputs={"text.txt": TEXT}, env={"PYTHONHASHSEED": "2"})
    assert first.result.ok, first.logs()
    assert first.files() == second.files()


@pytest.mark.integration
def test_a_text_without_words_is_refused_with_a_reason(dapps: Dapps) -> None:
    run = dapps.run("wordcloud", inputs={"text.txt": b"the and of it is a to"})
    assert run.result.exit_code == 1
    message = "the text has no words to draw (common words like 'the' are left out)"
    assert run.computed == {
        "deterministic-output-path": "/iexec_out/error.txt",
        "error-message": message,
    }


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["10"], "WIDTH must be a whole number of pixels from 64 to 3000 \\(got '10'\\)"),
        (["800", "4000"], "HEIGHT must be a whole number of pixels"),
        (["wide"], "WIDTH must be a whole number"),
        (["1", "2", "3"], "expected at most two arguments"),
    ],
)
def test_a_bad_size_says_what_to_send(args: list[str], complaint: str) -> None:
    with pytest.raises(wordcloud.BadInput, match=complaint):
        wordcloud.parse_size(args)


def test_the_default_size_is_800_by_400() -> None:
    assert wordcloud.parse_size([]) == (800, 400)
    assert wordcloud.parse_size(["640"]) == (640, 400)


def test_a_text_that_is_not_utf8_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    monkeypatch.setenv("IEXEC_IN", str(tmp_path))
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "1")
    monkeypatch.setenv("IEXEC_INPUT_FILE_NAME_1", "latin1.txt")
    with pytest.raises(wordcloud.BadInput, match=r"'latin1.txt' is not UTF-8 text \(byte 3"):
        wordcloud.read_text()


def test_no_input_file_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IEXEC_INPUT_FILES_NUMBER", "0")
    monkeypatch.delenv("IEXEC_DATASET_FILENAME", raising=False)
    with pytest.raises(wordcloud.BadInput, match="no text: give a UTF-8 text file"):
        wordcloud.read_text()
