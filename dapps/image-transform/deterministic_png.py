"""PNG files whose bytes depend on the pixels alone, whichever host writes them.

Workers agree on a result by its hash, so two workers drawing the same pixels must write the
same bytes. Pillow's PNG encoder cannot promise that across hosts: its wheels compress with the
host's own zlib (libz.so.1 is not bundled), and zlib, zlib-ng and their versions compress the
same data into different bytes. This writer compresses with libdeflate instead, compiled into
the vendored `deflate` wheel, whose output depends on its version and level only. The file
holds the pixels and nothing else: no timestamp, no text chunk, no colour profile.

The dapps that write PNGs each hold a copy of this file (a bundle packs its own directory
only); tests/dapps checks that the copies stay identical.
"""

import struct
import zlib

import deflate
from PIL import Image, ImageChops

__all__ = ["encode_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}  # 8 bits per channel
_LEVEL = 9  # libdeflate's 10-12 are far slower for a few percent


def write_png(image: Image.Image, path: str) -> None:
    with open(path, "wb") as file:
        file.write(encode_png(image))


def encode_png(image: Image.Image) -> bytes:
    """The PNG of an L, RGB or RGBA image."""
    if image.mode not in _COLOR_TYPES:
        raise ValueError(f"cannot write a {image.mode} image as PNG: convert it to RGB first")
    width, height = image.size
    if not width or not height:
        raise ValueError(f"cannot write an empty image ({width} x {height}) as PNG")
    # PNG filters each row before compression. Try three filters on every row: none, "sub"
    # (minus the pixel on the left: good on smooth rows) and "up" (minus the pixel above), and
    # keep the smallest file. The order is fixed and a tie keeps the first: deterministic.
    data = min((_compressed(image, filter_type) for filter_type in (0, 1, 2)), key=len)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[image.mode], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _compressed(image: Image.Image, filter_type: int) -> bytes:
    """The zlib stream of the image's rows, each filtered with `filter_type` (0, 1 or 2).

    Large images come close to the sandbox's memory limit, so each copy is dropped as soon
    as the next one is made.
    """
    width, height = image.size
    if filter_type == 0:
        pixels = image.tobytes()
    else:
        # PNG's sub and up filters are byte-wise differences modulo 256 with the pixel one
        # step left or up (zero beyond the edge): ImageChops.subtract_modulo on a shifted copy.
        shifted = Image.new(image.mode, image.size, 0)
        if filter_type == 1:
            shifted.paste(image.crop((0, 0, width - 1, height)), (1, 0))
        else:
            shifted.paste(image.crop((0, 0, width, height - 1)), (0, 1))
        difference = ImageChops.subtract_modulo(image, shifted)
        del shifted
        pixels = difference.tobytes()
        del difference
    stride = len(pixels) // height
    rows = bytearray(len(pixels) + height)  # each row led by its filter type
    source = memoryview(pixels)
    for row in range(height):
        start = row * (stride + 1)
        rows[start] = filter_type
        rows[start + 1 : start + 1 + stride] = source[row * stride : (row + 1) * stride]
    source.release()
    del pixels
    return bytes(deflate.zlib_compress(rows, _LEVEL))


def _chunk(kind: bytes, data: bytes) -> bytes:
    # CRC-32 is one fixed function: any zlib computes the same value
    checksum = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)
