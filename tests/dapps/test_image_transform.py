"""image-transform: ImageMagick-like operations on an input image, pixel-exact where the
operation is exact, the same bytes on every run, bad operations refused with a reason."""

from collections.abc import Callable

import pytest

from tests.dapps import png
from tests.dapps.conftest import DAPPS, Dapps

pytestmark = pytest.mark.integration

LANDSCAPE = (DAPPS / "image-transform" / "samples" / "landscape.jpg").read_bytes()
WIDTH, HEIGHT = 4, 3


def source(x: int, y: int) -> tuple[int, int, int]:
    """The colour of each pixel of a small test image, all different."""
    return (x * 60, y * 100, 200 - x * 10 - y)


SMALL = png.encode(
    WIDTH,
    HEIGHT,
    "RGB",
    bytes(value for y in range(HEIGHT) for x in range(WIDTH) for value in source(x, y)),
)


#: 20 megapixels of black, 20 KB compressed: refused from its header, before it is decoded
HUGE = png.encode(5000, 4000, "L", bytes(5000 * 4000))


def transform(dapps: Dapps, *operations: str, image: bytes = SMALL) -> png.Png:
    run = dapps.run("image-transform", *operations, inputs={"input.png": image})
    assert run.result.ok, run.logs()
    assert run.computed == {"deterministic-output-path": "/iexec_out/output.png"}
    return png.decode(run.output.read_bytes())


Pixel = tuple[int, ...]

#: operation -> (size of the output, colour of each output pixel x, y)
EXACT: dict[str, tuple[tuple[int, int], Callable[[int, int], Pixel]]] = {
    "flip": ((WIDTH, HEIGHT), lambda x, y: source(x, HEIGHT - 1 - y)),
    "flop": ((WIDTH, HEIGHT), lambda x, y: source(WIDTH - 1 - x, y)),
    "rotate:90": ((HEIGHT, WIDTH), lambda x, y: source(y, HEIGHT - 1 - x)),  # clockwise
    "rotate:-90": ((HEIGHT, WIDTH), lambda x, y: source(WIDTH - 1 - y, x)),
    "rotate:180": ((WIDTH, HEIGHT), lambda x, y: source(WIDTH - 1 - x, HEIGHT - 1 - y)),
    "crop:2x2+1+1": ((2, 2), lambda x, y: source(x + 1, y + 1)),
    "invert": ((WIDTH, HEIGHT), lambda x, y: tuple(255 - v for v in source(x, y))),
}


@pytest.mark.parametrize("operation", EXACT)
def test_exact_operations_move_every_pixel_where_expected(dapps: Dapps, operation: str) -> None:
    size, expected = EXACT[operation]
    image = transform(dapps, operation)
    assert (image.width, image.height, image.channels) == (*size, 3)
    for y in range(image.height):
        for x in range(image.width):
            assert image.pixel(x, y) == expected(x, y), (operation, x, y)


def test_grayscale_keeps_the_luma(dapps: Dapps) -> None:
    image = transform(dapps, "grayscale")
    assert image.channels == 1
    for y in range(HEIGHT):
        for x in range(WIDTH):
            red, green, blue = source(x, y)
            luma = (red * 299 + green * 587 + blue * 114) / 1000  # ITU-R 601-2
            assert abs(image.pixel(x, y)[0] - luma) <= 1


def test_operations_apply_in_order(dapps: Dapps) -> None:
    image = transform(dapps, "rotate:90", "crop:1x1+0+0")  # the top-left after the turn
    assert image.pixel(0, 0) == source(0, HEIGHT - 1)


def test_a_photo_is_resized_as_asked(dapps: Dapps) -> None:
    for operation, size in [
        ("resize:160x100", (160, 100)),
        ("resize:50%", (160, 120)),
        ("resize:100", (100, 75)),
        ("resize:x60", (80, 60)),
    ]:
        image = transform(dapps, operation, image=LANDSCAPE)
        assert (image.width, image.height) == size, operation


def test_a_free_rotation_leaves_transparent_corners(dapps: Dapps) -> None:
    image = transform(dapps, "rotate:30", image=LANDSCAPE)
    assert image.channels == 4
    assert image.width > 320 and image.height > 240
    assert image.pixel(0, 0)[3] == 0
    assert image.pixel(image.width // 2, image.height // 2)[3] == 255


def test_the_output_holds_pixels_only(dapps: Dapps) -> None:
    assert transform(dapps, "blur:1", image=LANDSCAPE).chunks == (b"IHDR", b"IDAT", b"IEND")


def test_two_runs_give_the_same_bytes(dapps: Dapps) -> None:
    operations = ("resize:400", "rotate:15", "blur:1.5", "sharpen", "contrast:1.3", "grayscale")
    first = dapps.run("image-transform", *operations, inputs={"in.jpg": LANDSCAPE},
                      env={"PYTHONHASHSEED": "1"})  # fmt: skip
    second = dapps.run("image-transform", *operations, inputs={"in.jpg": LANDSCAPE},
                       env={"PYTHONHASHSEED": "2"})  # fmt: skip
    assert first.result.ok, first.logs()
    assert first.files() == second.files()


@pytest.mark.parametrize(
    ("operations", "image", "message"),
    [
        (["swirl:90"], SMALL, "unknown operation 'swirl': use one of resize, rotate, blur"),
        (["crop:3x3+2+2"], SMALL, "crop:3x3+2+2 reaches outside the 4 x 3 image"),
        (["resize:0x10"], SMALL, "resize:0x10: a side of 0 pixels is no image"),
        (["blur"], SMALL, "blur needs a value, as in blur:2"),
        (["flip"], b"plain text", "the input file 'input.png' is not an image this app reads"),
        (["resize:9000x9000"], SMALL, "resize:9000x9000 would make a 9000 x 9000 image"),
        (["flip"], HUGE, "the input file 'input.png' is a 5000 x 4000 image: at most 16,000,000"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    dapps: Dapps, operations: list[str], image: bytes, message: str
) -> None:
    run = dapps.run("image-transform", *operations, inputs={"input.png": image})
    assert run.result.exit_code == 1
    assert run.computed["error-message"].startswith(message)
    assert run.output.read_text() == f"error: {run.computed['error-message']}\n"
