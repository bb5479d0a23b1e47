"""wordcloud: a word cloud of a text, drawn as wordcloud.png.

    wordcloud [WIDTH [HEIGHT]]     800 x 400 pixels by default

The text is the first input file (else the deal's dataset), in UTF-8. Common English words
("the", "and"…) are left out, and frequent pairs of words are drawn together. The layout is
random but seeded, so every worker draws the same cloud; the PNG holds the pixels only,
compressed by the vendored libdeflate, so every worker writes the same bytes.

A missing or unreadable text, a text without words or a bad size writes error.txt and a
computed.json with an "error-message", and exits with status 1.
"""

import json
import os
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_SIZE = (800, 400)
MIN_SIDE, MAX_SIDE = 64, 3000
MAX_TEXT_BYTES = 5_000_000
#: The layout's seed: any fixed number makes the cloud a function of the text and size alone.
SEED = 2024
COLORMAP = "viridis"


class BadInput(Exception):
    """The requester's text or arguments are unusable; the message says why."""


def parse_size(args: list[str]) -> tuple[int, int]:
    """(width, height) from the arguments, or BadInput saying what is wrong."""
    if len(args) > 2:
        raise BadInput(f"expected at most two arguments, WIDTH and HEIGHT, got {len(args)}")
    size = list(DEFAULT_SIZE)
    for position, (name, text) in enumerate(zip(("WIDTH", "HEIGHT"), args, strict=False)):
        if not (text.isascii() and text.isdigit()) or not MIN_SIDE <= int(text) <= MAX_SIDE:
            raise BadInput(
                f"{name} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE} "
                f"(got {text!r})"
            )
        size[position] = int(text)
    return size[0], size[1]


def read_text() -> str:
    """The text of the input file."""
    name, path = input_file("no text: give a UTF-8 text file as input file, or a dataset")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TEXT_BYTES + 1)
    except OSError as error:
        raise BadInput(f"cannot read the input file {name!r}: {error.strerror}") from None
    if len(data) > MAX_TEXT_BYTES:
        raise BadInput(f"the input file {name!r} is over {MAX_TEXT_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(
            f"the input file {name!r} is not UTF-8 text (byte {error.start} is not)"
        ) from None


def input_file(missing: str) -> tuple[str, str]:
    """(name, path) of the file to read: the first input file, else the deal's dataset."""
    if int(os.environ.get("IEXEC_INPUT_FILES_NUMBER", "0") or 0) >= 1:
        name = os.environ.get("IEXEC_INPUT_FILE_NAME_1", "")
    else:
        name = os.environ.get("IEXEC_DATASET_FILENAME", "")
    if not name:
        raise BadInput(missing)
    return name, os.path.join(os.environ.get("IEXEC_IN", "/iexec_in"), name)


def color_of(colormap):
    """wordcloud's default colouring (a random point of the colormap per word), without its
    import of pyplot, which costs a second and reads the host's fonts for nothing."""

    def color(word, font_size, position, orientation, random_state, **kwargs):
        red, green, blue, _ = colormap(random_state.uniform(0, 1))
        return f"rgb({round(red * 255)}, {round(green * 255)}, {round(blue * 255)})"

    return color


def draw(text: str, width: int, height: int) -> "Image.Image":
    """The cloud as a Pillow RGB image."""
    # Imported here, once the input is known to be good: bad input fails in milliseconds
    # instead of after the half second numpy and matplotlib take to import. numpy's OpenBLAS
    # starts a thread per core when imported; threads count against the sandbox's process
    # limit, and a word cloud needs no parallel linear algebra.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    from matplotlib import colormaps
    from PIL import ImageFont
    from wordcloud import WordCloud
    from wordcloud import wordcloud as wordcloud_module

    # Pillow lays text out with libraqm when the host has FriBiDi installed, else with its
    # basic layout, and the two place glyphs differently: the basic layout is forced so that
    # the cloud does not depend on what the worker's host has installed.
    wordcloud_module.ImageFont = SimpleNamespace(
        truetype=lambda font, size: ImageFont.truetype(
            font, size, layout_engine=ImageFont.Layout.BASIC
        ),
        TransposedFont=ImageFont.TransposedFont,
    )
    cloud = WordCloud(
        width=width,
        height=height,
        background_color="white",
        color_func=color_of(colormaps[COLORMAP]),
        random_state=SEED,
    )
    try:
        cloud.generate(text)
    except ValueError as error:  # "We need at least 1 word to plot a word cloud, got 0."
        raise BadInput(
            "the text has no words to draw (common words like 'the' are left out)"
        ) from error
    return cloud.to_image()


def main(args: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        width, height = parse_size(args)
        image = draw(read_text(), width, height)
    except BadInput as error:
        return fail(out, str(error))
    from deterministic_png import write_png  # needs Pillow: imported once the input is good

    path = os.path.join(out, "wordcloud.png")
    write_png(image, path)
    write_computed(out, {"deterministic-output-path": path})
    print(f"wordcloud.png: {width} x {height} pixels")
    return 0


def fail(out: str, message: str) -> int:
    """Report bad input: error.txt is the deterministic output, so every worker agrees on the
    failure, and computed.json carries the message for the requester. Exit status 1."""
    path = os.path.join(out, "error.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"error: {message}\n")
    write_computed(out, {"deterministic-output-path": path, "error-message": message})
    print(f"wordcloud: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
