"""plot: a CSV in, a matplotlib chart out as PNG, the same bytes on every run."""

import math

import pytest

from tests.dapps import png
from tests.dapps.conftest import DAPPS, Dapps
from tests.dapps.modules import load_main

plot = load_main("plot")

WEATHER = (DAPPS / "plot" / "samples" / "weather.csv").read_bytes()
LANGUAGES = (DAPPS / "plot" / "samples" / "languages.csv").read_bytes()


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["line", "scatter", "bar"])
def test_each_kind_of_chart_is_drawn(dapps: Dapps, kind: str) -> None:
    run = dapps.run("plot", f"kind={kind}", "title=Weather", inputs={"weather.csv": WEATHER})
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/plot.png"}
    image = png.decode(run.output.read_bytes())
    assert (image.width, image.height, image.channels) == (800, 500, 3)
    assert image.chunks == (b"IHDR", b"IDAT", b"IEND")  # no date, no software name
    colors = image.colors()
    assert colors.most_common(1)[0][0] == (255, 255, 255)
    assert (31, 119, 180) in colors  # matplotlib's first series colour: the data was drawn


@pytest.mark.integration
def test_the_size_is_the_one_asked(dapps: Dapps) -> None:
    run = dapps.run("plot", "kind=bar", "size=600x300", inputs={"languages.csv": LANGUAGES})
    assert run.result.ok, run.logs()
    image = png.decode(run.output.read_bytes())
    assert (image.width, image.height) == (600, 300)


@pytest.mark.integration
def test_two_runs_give_the_same_bytes(dapps: Dapps) -> None:
    args = ("kind=line", "title=Rain $ and sun", "ylabel=mm / hours")
    first = dapps.run("plot", *args, inputs={"w.csv": WEATHER}, env={"PYTHONHASHSEED": "1"})
    second = dapps.run("plot", *args, inputs={"w.csv": WEATHER}, env={"PYTHONHASHSEED": "2"})
    assert first.result.ok, first.logs()
    assert first.files() == second.files()


@pytest.mark.integration
def test_a_csv_with_text_for_a_number_is_refused_with_a_reason(dapps: Dapps) -> None:
    run = dapps.run("plot", inputs={"data.csv": b"x,y\n1,2\n2,three\n"})
    assert run.result.exit_code == 1
    assert run.computed["error-message"] == (
        "line 3, column 2 (y): 'three' is not a number "
        "(write numbers like 12, -3.5 or 1e6; leave gaps empty)"
    )
    assert run.output.name == "error.txt"


def test_the_header_names_the_axis_and_the_series() -> None:
    table = plot.parse_csv(WEATHER.decode())
    assert table.x_name == "month"
    assert list(table.series) == ["rainfall_mm", "sunshine_h"]
    assert table.numeric_x() == [float(month) for month in range(1, 13)]
    assert table.series["sunshine_h"][6] == 240


def test_without_header_the_series_are_numbered() -> None:
    table = plot.parse_csv("1;2;3\n2;4;\n")
    assert list(table.series) == ["series 1", "series 2"]
    assert table.series["series 1"] == [2.0, 4.0]
    assert math.isnan(table.series["series 2"][1])  # an empty cell is a gap


def test_two_series_of_one_name_stay_two() -> None:
    assert list(plot.parse_csv("x,a,a\n1,2,3\n").series) == ["a", "a (2)"]


def test_a_huge_csv_is_refused_before_it_is_all_read() -> None:
    assert len(plot.parse_csv("x,y\n" + "1,2\n" * 100_000).x) == 100_000
    with pytest.raises(plot.BadInput, match="over 100,000 rows"):
        plot.parse_csv("x,y\n" + "1,2\n" * 100_001)


def test_labels_make_a_categorical_axis() -> None:
    table = plot.parse_csv(LANGUAGES.decode())
    assert table.numeric_x() is None and table.x[0] == "Python"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "the CSV is empty"),
        ("x\n1\n2\n", "needs two columns at least"),
        ("x,y\n", "a header but no data"),
        ("x,y\n1,2\n2\n", "line 3 has 1 cells where the first has 2"),
        ("x,y\n,2\n", "line 2 has no x"),
        ("x,y\n1,nan\n", "'nan' is not a number"),
        ("x,y\n1,\n", "no numbers to chart"),
        ("x,y\n1,1e999\n", "a number too large to chart"),
        ("x," + ",".join(f"s{i}" for i in range(9)) + "\n" + "1," * 9 + "1\n", "at most 8"),
    ],
)
def test_a_csv_that_cannot_be_charted_names_the_fault(text: str, complaint: str) -> None:
    with pytest.raises(plot.BadInput, match=complaint):
        plot.parse_csv(text)


def test_options_are_key_value_words() -> None:
    options = plot.parse_options(["kind=bar", "title=A = B", "size=640x480"])
    assert (options.kind, options.title, options.size) == ("bar", "A = B", (640, 480))
    assert plot.parse_options([]) == plot.Options()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--kind", "bar"], "unexpected argument '--kind': options are KEY=VALUE"),
        (["color=red"], "unexpected argument 'color=red'"),
        (["kind=pie"], "kind must be one of line, scatter, bar \\(got 'pie'\\)"),
        (["size=10x10"], "size must be WIDTHxHEIGHT in pixels, each from 200 to 3000"),
        (["kind=bar", "kind=line"], "kind is given twice"),
        (["title=" + "x" * 201], "title must be printable text of at most 200"),
    ],
)
def test_bad_options_say_what_to_send(args: list[str], complaint: str) -> None:
    with pytest.raises(plot.BadInput, match=complaint):
        plot.parse_options(args)
