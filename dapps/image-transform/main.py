"""image-transform: ImageMagick-like operations on an image, written as output.png.

    image-transform OP [OP…]       the image is the first input file (else the dataset)

The operations apply in the order given:

    resize:WxH      exactly W x H pixels          resize:W / resize:xH  keep the aspect ratio
    resize:P%       scale by P percent
    rotate:DEG      clockwise; 90, 180 and 270 are exact, other angles enlarge the canvas and
                    leave the corners transparent
    blur:R          Gaussian blur of radius R pixels (0 < R <= 100)
    sharpen         unsharp mask
    grayscale       shades of grey (transparency kept)
    flip            upside down                   flop (or mirror)  left to right
    crop:WxH+X+Y    the W x H rectangle whose top-left corner is at X, Y
    invert          the negative
    brightness:F    contrast:F    F = 1 leaves the image unchanged, 0.5 halves, 2 doubles

The input may be PNG, JPEG, GIF (first frame), BMP, TIFF or WebP; a photo's EXIF orientation
is applied first. The output is a PNG holding the pixels only (no metadata), compressed by the
vendored libdeflate, so every worker writes the same bytes.

An unknown operation, a bad value, an unreadable or oversized image writes error.txt and a
computed.json with an "error-message", and exits with status 1.
"""

import json
import math
import os
import re
import sys
from collections.abc import Callable

from deterministic_png import write_png
from PIL import Image, ImageEnhance, ImageFilter, ImageOps, UnidentifiedImageError

#: Pixels in the input and in any intermediate image: an RGBA image of 16 MP takes 64 MB, and
#: the PNG writer holds a few copies, within the sandbox's memory.
MAX_PIXELS = 16_000_000
MAX_SIDE = 16_384
MAX_INPUT_BYTES = 50_000_000
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]

# Pillow warns above 89 MP and refuses above twice that; this app sets its own, lower bound
# and checks it before decoding, so Pillow's check is off.
Image.MAX_IMAGE_PIXELS = None


class BadInput(Exception):
    """The requester's image or operations are unusable; the message says why."""


Operation = Callable[[Image.Image], Image.Image]


def parse_operations(args: list[str]) -> list[tuple[str, Operation]]:
    """Each argument as (its text, the function applying it), or BadInput naming the bad one."""
    if not args:
        raise BadInput(f"no operation given: use one or more of {', '.join(OPERATIONS)}")
    operations = []
    for arg in args:
        name, _, value = arg.partition(":")
        if name not in OPERATIONS:
            raise BadInput(f"unknown operation {name!r}: use one of {', '.join(OPERATIONS)}")
        takes_value, build = OPERATIONS[name]
        if takes_value and not value:
            raise BadInput(f"{name} needs a value, as in {EXAMPLES[name]}")
        if not takes_value and value:
            raise BadInput(f"{name} takes no value (got {arg!r})")
        operations.append((arg, build(value)))
    return operations


def _resize(value: str) -> Operation:
    """resize:WxH, resize:W or resize:xH (the missing side keeps the aspect ratio), resize:P%."""
    scale = 0.0
    wanted_width: int | None = None
    wanted_height: int | None = None
    if match := re.fullmatch(r"(\d{1,4}(?:\.\d{1,4})?)%", value):
        scale = float(match[1]) / 100
        if not scale:
            raise BadInput(f"resize:{value}: a scale of 0 leaves no image")
    elif (match := re.fullmatch(r"(\d{1,5})?(?:x(\d{1,5}))?", value)) and any(match.groups()):
        wanted_width, wanted_height = (int(side) if side else None for side in match.groups())
        if 0 in (wanted_width, wanted_height):
            raise BadInput(f"resize:{value}: a side of 0 pixels is no image")
    else:
        raise BadInput(f"resize:{value}: expected WxH, W, xH or P% (e.g. {EXAMPLES['resize']})")

    def resize(image: Image.Image) -> Image.Image:
        width, height = image.size
        if scale:
            new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        else:
            new_size = (
                wanted_width or max(1, round(width * wanted_height / height)),
                wanted_height or max(1, round(height * wanted_width / width)),
            )
        check_size(new_size, f"resize:{value}")
        return image.resize(new_size, Image.Resampling.LANCZOS)

    return resize


def _rotate(value: str) -> Operation:
    degrees = _number("rotate", value, -360, 360)

    def rotate(image: Image.Image) -> Image.Image:
        # ImageMagick turns clockwise, Pillow counter-clockwise. Quarter turns are exact
        # transpositions; other angles resample, on a transparent canvas large enough.
        quarter = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                   270: Image.Transpose.ROTATE_90}  # fmt: skip
        turn = degrees % 360
        if turn == 0:
            return image
        if turn in quarter:
            return image.transpose(quarter[turn])
        # the canvas that holds the turned image, checked before Pillow allocates it
        radians = math.radians(turn)
        cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
        width, height = image.size
        canvas = (math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos))
        check_size(canvas, f"rotate:{value}")
        return with_alpha(image).rotate(-degrees, Image.Resampling.BICUBIC, expand=True)

    return rotate


def _blur(value: str) -> Operation:
    radius = _number("blur", value, 0, 100)
    if radius == 0:
        raise BadInput("blur:0 would change nothing: the radius must be above 0")
    return lambda image: image.filter(ImageFilter.GaussianBlur(radius))


def _enhance(name: str, enhancer: type) -> Callable[[str], Operation]:
    def build(value: str) -> Operation:
        factor = _number(name, value, 0, 10)

        def enhance(image: Image.Image) -> Image.Image:
            return enhancer(image).enhance(factor)

        return enhance

    return build


def _crop(value: str) -> Operation:
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})\+(\d{1,5})\+(\d{1,5})", value)
    if not match:
        raise BadInput(f"crop:{value}: expected WxH+X+Y (e.g. {EXAMPLES['crop']})")
    width, height, left, top = map(int, match.groups())
    if not width or not height:
        raise BadInput(f"crop:{value}: a side of 0 pixels is no image")

    def crop(image: Image.Image) -> Image.Image:
        if left + width > image.width or top + height > image.height:
            raise BadInput(f"crop:{value} reaches outside the {image.width} x {image.height} image")
        return image.crop((left, top, left + width, top + height))

    return crop


def _grayscale(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        return image.convert("LA").convert("RGBA")
    return image.convert("L")


def _invert(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        inverted = ImageOps.invert(image.convert("RGB")).convert("RGBA")
        inverted.putalpha(image.getchannel("A"))
        return inverted
    return ImageOps.invert(image)


def _number(name: str, value: str, low: float, high: float) -> float:
    """A decimal number in [low, high], or BadInput."""
    if not re.fullmatch(r"-?\d{1,6}(\.\d{1,6})?", value) or not low <= float(value) <= high:
        raise BadInput(f"{name}:{value}: expected a number from {low:g} to {high:g}")
    return float(value)


def _no_value(operation: Operation) -> Callable[[str], Operation]:
    return lambda _value: operation


#: name -> (takes a value, builds the operation from the value)
OPERATIONS: dict[str, tuple[bool, Callable[[str], Operation]]] = {
    "resize": (True, _resize),
    "rotate": (True, _rotate),
    "blur": (True, _blur),
    "sharpen": (False, _no_value(lambda image: image.filter(ImageFilter.SHARPEN))),
    "grayscale": (False, _no_value(_grayscale)),
    "flip": (False, _no_value(lambda image: image.transpose(Image.Transpose.FLIP_TOP_BOTTOM))),
    "flop": (False, _no_value(lambda image: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))),
    "mirror": (False, _no_value(lambda image: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))),
    "crop": (True, _crop),
    "invert": (False, _no_value(_invert)),
    "brightness": (True, _enhance("brightness", ImageEnhance.Brightness)),
    "contrast": (True, _enhance("contrast", ImageEnhance.Contrast)),
}
EXAMPLES = {
    "resize": "resize:320x240",
    "rotate": "rotate:90",
    "blur": "blur:2",
    "crop": "crop:100x80+10+20",
    "brightness": "brightness:1.2",
    "contrast": "contrast:1.5",
}


def check_size(size: tuple[int, int], step: str, verb: str = "would make") -> None:
    """BadInput unless an image of `size` fits the bounds; `step` says where it comes from."""
    width, height = size
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise BadInput(
            f"{step} {verb} a {width} x {height} image: at most {MAX_PIXELS:,} pixels "
            f"and {MAX_SIDE:,} a side"
        )


def with_alpha(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGBA" else image.convert("RGBA")


def read_image() -> Image.Image:
    """The input image, decoded and upright, as an L, RGB or RGBA image."""
    name, path = input_file(
        f"no image: give one as input file, or a dataset ({', '.join(FORMATS)})"
    )
    try:
        if os.path.getsize(path) > MAX_INPUT_BYTES:
            raise BadInput(f"the input file {name!r} is over {MAX_INPUT_BYTES:,} bytes")
        image = Image.open(path, formats=FORMATS)  # reads the header only
    except UnidentifiedImageError:
        raise BadInput(
            f"the input file {name!r} is not an image this app reads ({', '.join(FORMATS)})"
        ) from None
    except OSError as error:
        raise BadInput(f"cannot read the input file {name!r}: {error.strerror}") from None
    check_size(image.size, f"the input file {name!r}", verb="is")
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise BadInput(f"the image {name!r} is damaged: {error}") from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
        return image.convert("RGBA")
    return image.convert("L" if image.mode in ("1", "L") else "RGB")


def input_file(missing: str) -> tuple[str, str]:
    """(name, path) of the file to read: the first input file, else the deal's dataset."""
    if int(os.environ.get("IEXEC_INPUT_FILES_NUMBER", "0") or 0) >= 1:
        name = os.environ.get("IEXEC_INPUT_FILE_NAME_1", "")
    else:
        name = os.environ.get("IEXEC_DATASET_FILENAME", "")
    if not name:
        raise BadInput(missing)
    return name, os.path.join(os.environ.get("IEXEC_IN", "/iexec_in"), name)


def main(args: list[str]) -> int:
    out = os.environ.get("IEXEC_OUT", "/iexec_out")
    try:
        operations = parse_operations(args)
        image = read_image()
        for _text, operation in operations:
            image = operation(image)
    except BadInput as error:
        return fail(out, str(error))
    path = os.path.join(out, "output.png")
    write_png(image, path)
    write_computed(out, {"deterministic-output-path": path})
    print(f"output.png: {image.width} x {image.height} {image.mode} after {' '.join(args)}")
    return 0


def fail(out: str, message: str) -> int:
    """Report bad input: error.txt is the deterministic output, so every worker agrees on the
    failure, and computed.json carries the message for the requester. Exit status 1."""
    path = os.path.join(out, "error.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"error: {message}\n")
    write_computed(out, {"deterministic-output-path": path, "error-message": message})
    print(f"image-transform: {message}", file=sys.stderr)
    return 1


def write_computed(out: str, fields: dict[str, str]) -> None:
    with open(os.path.join(out, "computed.json"), "w", encoding="utf-8") as file:
        json.dump(fields, file, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
