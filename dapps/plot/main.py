"""plot: a chart of the series in a CSV file, drawn by matplotlib into plot.png.

    plot [kind=line|scatter|bar] [title=TEXT] [xlabel=TEXT] [ylabel=TEXT] [size=WxH]

The CSV is the first input file (else the deal's dataset). Its first column is x and every
other column a series (at most 8). A first row holding anything but numbers in the series
columns is the header: it names the axis and the series. x may be numbers (a numeric axis) or
labels (one tick each, in the file's order); a series cell is a number, or empty for a gap.
Cells are separated by commas, or by semicolons or tabs when the first line has those and no
comma.

Options are KEY=VALUE words (quote those with spaces): `nuage run` keeps the words after the
app's name for the app, and a word starting with "--" would read as one of its own options.

The chart is drawn with matplotlib's own fonts (never the host's, which differ from worker to
worker) and its Agg renderer, and written as a PNG of the pixels alone, compressed by the
vendored libdeflate: every worker writes the same bytes.

A CSV that cannot be charted or a bad option writes error.txt and a computed.json with an
"error-message", and exits with status 1.
"""

import csv
import gc
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

KINDS = ("line", "scatter", "bar")
OPTIONS = ("kind", "title", "xlabel", "ylabel", "size")
DEFAULT_SIZE = (800, 500)
MIN_SIDE, MAX_SIDE = 200, 3000
DPI = 100
MAX_ROWS = 100_000
MAX_SERIES = 8
MAX_TEXT = 200
MAX_INPUT_BYTES = 20_000_000
MAX_TICK_LABELS = 40
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


class BadInput(Exception):
    """The requester's CSV or options are unusable; the message says why."""


@dataclass(frozen=True)
class Options:
    kind: str = "line"
    title: str = ""
    xlabel: str | None = None  # None: the header of the x column
    ylabel: str | None = None  # None: the series' name when there is one series
    size: tuple[int, int] = DEFAULT_SIZE


@dataclass(frozen=True)
class Table:
    x_name: str
    x: list[str]
    series: dict[str, list[float]]  # name -> values, NaN for a gap

    def numeric_x(self) -> list[float] | None:
        """x as numbers when every x is one, else None (x are labels)."""
        if all(NUMBER.fullmatch(value) for value in self.x):
            return [float(value) for value in self.x]
        return None


def parse_options(args: list[str]) -> Options:
    fields: dict[str, object] = {}
    for arg in args:
        key, equals, value = arg.partition("=")
        if not equals or key not in OPTIONS:
            raise BadInput(
                f"unexpected argument {arg!r}: options are KEY=VALUE with KEY one of "
                f'{", ".join(OPTIONS)} (e.g. kind=bar "title=Rainfall in 2024")'
            )
        if key in fields:
            raise BadInput(f"{key} is given twice")
        if key == "kind":
            if value not in KINDS:
                raise BadInput(f"kind must be one of {', '.join(KINDS)} (got {value!r})")
            fields[key] = value
        elif key == "size":
            fields[key] = _parse_size(value)
        else:
            if len(value) > MAX_TEXT or not value.isprintable():
                raise BadInput(f"{key} must be printable text of at most {MAX_TEXT} characters")
            fields[key] = value
    return Options(**fields)  # type: ignore[arg-type]


def _parse_size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", value)
    if not match or not all(MIN_SIDE <= int(side) <= MAX_SIDE for side in match.groups()):
        raise BadInput(
            f"size must be WIDTHxHEIGHT in pixels, each from {MIN_SIDE} to {MAX_SIDE} "
            f"(got {value!r})"
        )
    return int(match[1]), int(match[2])


def parse_csv(text: str) -> Table:
    """The table in a CSV text, or BadInput naming the line at fault."""
    text = text.removeprefix("\ufeff")  # the byte order mark some spreadsheets write
    first_line = text.split("\n", 1)[0]
    delimiter = "," if "," in first_line else ";" if ";" in first_line else "\t"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []  # (line number, cells)
    for row in reader:
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append((reader.line_num, cells))
        if len(rows) > MAX_ROWS + 1:  # a header and MAX_ROWS rows at most: stop reading
            raise BadInput(f"the CSV has over {MAX_ROWS:,} rows: at most {MAX_ROWS:,} are charted")
    if not rows:
        raise BadInput("the CSV is empty")
    columns = len(rows[0][1])
    if columns < 2:
        raise BadInput("the CSV needs two columns at least: x, then one or more series")
    if columns - 1 > MAX_SERIES:
        raise BadInput(f"the CSV has {columns - 1} series: at most {MAX_SERIES} fit in a chart")
    header_cells = rows[0][1]
    has_header = not all(NUMBER.fullmatch(cell) or not cell for cell in header_cells[1:])
    if has_header:
        names = [cell or f"series {index}" for index, cell in enumerate(header_cells)]
        for index, name in enumerate(names):  # two series of one name would become one
            if name in names[:index]:
                names[index] = f"{name} ({index})"
        rows = rows[1:]
    else:
        names = ["x"] + [f"series {index}" for index in range(1, columns)]
    if not rows:
        raise BadInput("the CSV has a header but no data")
    if len(rows) > MAX_ROWS:
        raise BadInput(f"the CSV has over {MAX_ROWS:,} rows: at most {MAX_ROWS:,} are charted")
    x: list[str] = []
    series: list[list[float]] = [[] for _ in range(columns - 1)]
    for number, cells in rows:
        if len(cells) != columns:
            raise BadInput(f"line {number} has {len(cells)} cells where the first has {columns}")
        if not cells[0]:
            raise BadInput(f"line {number} has no x (the first cell is empty)")
        x.append(cells[0])
        for index, cell in enumerate(cells[1:]):
            if cell and not NUMBER.fullmatch(cell):
                raise BadInput(
                    f"line {number}, column {index + 2} ({names[index + 1]}): {cell[:40]!r} is "
                    "not a number (write numbers like 12, -3.5 or 1e6; leave gaps empty)"
                )
            series[index].append(float(cell) if cell else math.nan)
    values = [value for column in series for value in column if not math.isnan(value)]
    if not values:
        raise BadInput("the CSV has no numbers to chart")
    if not all(math.isfinite(value) for value in values):
        raise BadInput("the CSV holds a number too large to chart")
    return Table(names[0], x, dict(zip(names[1:], series, strict=True)))


def read_csv() -> Table:
    name, path = input_file("no data: give a CSV file as input file, or a dataset")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        raise BadInput(f"cannot read the input file {name!r}: {error.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise BadInput(f"the input file {name!r} is over {MAX_INPUT_BYTES:,} bytes")
    try:
        return parse_csv(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadInput(f"the input file {name!r} is not UTF-8 text (byte {error.start})") from None
    except csv.Error as error:
        raise BadInput(f"the input file {name!r} is not valid CSV: {error}") from None


def input_file(missing: str) -> tuple[str, str]:
    """(name, path) of the file to read: the first input file, else the deal's dataset."""
    if int(os.environ.get("IEXEC_INPUT_FILES_NUMBER", "0") or 0) >= 1:
        name = os.environ.get("IEXEC_INPUT_FILE_NAME_1", "")
    else:
        name = os.environ.get("IEXEC_DATASET_FILENAME", "")
    if not name:
        raise BadInput(missing)
    return name, os.path.join(os.environ.get("IEXEC_IN", "/iexec_in"), name)


def use_bundled_fonts_only() -> None:
    """Index matplotlib's own fonts only, never the host's.

    matplotlib lists the host's fonts beside its own and may pick a host's "DejaVu Sans" of
    another version over the bundled one; its own are in the bundle, the same for every
    worker. They are dropped from the index before any text is laid out (so no lookup was
    cached yet). To list them matplotlib also runs the host's fc-list, which in the sandbox
    finds no configuration and prints "Fontconfig error" into the task's logs: it is kept out
    of reach (matplotlib reads a missing fc-list as no fonts) while the index is built.
    """
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = "/nonexistent"
    try:
        import matplotlib
        from matplotlib import font_manager
    finally:
        os.environ["PATH"] = path
    bundled = os.path.join(matplotlib.get_data_path(), "fonts") + os.sep
    manager = font_manager.fontManager
    manager.ttflist = [font for font in manager.ttflist if font.fname.startswith(bundled)]
    manager.afmlist = [font for font in manager.afmlist if font.fname.startswith(bundled)]


def literal(text: str) -> str:
    """Text shown as written: matplotlib reads $…$ as mathematical notation."""
    return text.replace("$", r"\$")


def draw(table: Table, options: Options) -> "Image.Image":
    """The chart as an RGB image of exactly options.size pixels."""
    # Imported here, once the input is known to be good: a bad CSV fails in milliseconds
    # instead of after the second matplotlib takes to import. numpy's OpenBLAS starts a thread
    # per core when imported; threads count against the sandbox's process limit, and a chart
    # needs no parallel linear algebra.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    use_bundled_fonts_only()
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    matplotlib.rcdefaults()  # ignore any matplotlibrc found on the host or in the environment
    width, height = options.size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    numeric_x = table.numeric_x() if options.kind != "bar" else None
    positions = numeric_x or list(range(len(table.x)))
    count = len(table.series)
    for index, (name, values) in enumerate(table.series.items()):
        label = literal(name)
        if options.kind == "line":
            marker = "o" if len(values) <= 50 else None
            axes.plot(positions, values, marker=marker, markersize=4, label=label)
        elif options.kind == "scatter":
            axes.scatter(positions, values, s=16, label=label)
        else:  # grouped bars, side by side around each x
            bar_width = 0.8 / count
            offset = (index - (count - 1) / 2) * bar_width
            heights = [0.0 if math.isnan(value) else value for value in values]
            axes.bar([p + offset for p in positions], heights, bar_width, label=label)
    if numeric_x is None:  # labels: one tick per x, thinned out when they would overlap
        step = math.ceil(len(table.x) / MAX_TICK_LABELS)
        ticks = list(range(0, len(table.x), step))
        long = any(len(table.x[tick]) > 6 for tick in ticks)
        axes.set_xticks(ticks, [literal(table.x[tick]) for tick in ticks],
                        rotation=45 if long else 0, ha="right" if long else "center")  # fmt: skip
    names = list(table.series)
    axes.set_title(literal(options.title))
    axes.set_xlabel(literal(table.x_name if options.xlabel is None else options.xlabel))
    default_ylabel = names[0] if count == 1 else ""
    axes.set_ylabel(literal(default_ylabel if options.ylabel is None else options.ylabel))
    if count > 1:
        axes.legend()
    axes.grid(True, alpha=0.3)
    axes.set_axisbelow(True)  # the grid behind the bars
    figure.tight_layout()
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    image = rgba.convert("RGB")  # the figure is opaque: the alpha channel would be all 255
    # The figure keeps Agg's buffer (4 bytes a pixel) alive through reference cycles until the
    # next garbage collection: free it before the PNG is written, as a large chart comes close
    # to the sandbox's memory limit.
    del rgba, canvas, axes
    figure.clear()
    del figure
    gc.collect()
    return image


def main(args: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        options = parse_options(args)
        table = read_csv()
    except BadInput as error:
        return fail(out, str(error))
    image = draw(table, options)
    from deterministic_png import write_png  # needs Pillow: imported once the input is good

    path = os.path.join(out, "plot.png")
    write_png(image, path)
    write_computed(out, {"deterministic-output-path": path})
    print(
        f"plot.png: {options.kind} chart of {len(table.series)} series, {len(table.x)} points, "
        f"{image.width} x {image.height} pixels"
    )
    return 0


def fail(out: str, message: str) -> int:
    """Report bad input: error.txt is the deterministic output, so every worker agrees on the
    failure, and computed.json carries the message for the requester. Exit status 1."""
    path = os.path.join(out, "error.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"error: {message}\n")
    write_computed(out, {"deterministic-output-path": path, "error-message": message})
    print(f"plot: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
