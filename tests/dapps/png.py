"""PNG files read and written with the standard library: the test suite has no Pillow, and an
independent decoder checks the dapps' own PNG writer too."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> channels (8-bit grey, RGB, grey+A, RGBA)
MODES = {"L": 0, "RGB": 2, "RGBA": 6}


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    pixels: bytes  # rows top to bottom, unfiltered
    chunks: tuple[bytes, ...]  # the chunk types, in file order

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        start = (y * self.width + x) * self.channels
        return tuple(self.pixels[start : start + self.channels])

    def colors(self) -> Counter[tuple[int, ...]]:
        size = self.channels
        return Counter(tuple(self.pixels[i : i + size]) for i in range(0, len(self.pixels), size))


def decode(data: bytes) -> Png:
    """Decodes an 8-bit, non-interlaced PNG, checking every chunk's CRC."""
    assert data.startswith(SIGNATURE), "not a PNG"
    position, kinds, idat = len(SIGNATURE), [], b""
    header = b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        kinds.append(kind)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0, (depth, interlace)
    channels = CHANNELS[color_type]
    stride = width * channels
    raw = zlib.decompress(idat)
    assert len(raw) == height * (stride + 1)
    pixels = bytearray()
    previous = bytearray(stride)
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(filter_type, row, previous, channels)
        pixels += row
        previous = row
    return Png(width, height, channels, bytes(pixels), tuple(kinds))


def encode(width: int, height: int, mode: str, pixels: bytes) -> bytes:
    """A PNG of the given pixels (rows top to bottom), unfiltered."""
    stride = width * {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    assert len(pixels) == stride * height
    rows = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, MODES[mode], 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _unfilter(filter_type: int, row: bytearray, previous: bytearray, step: int) -> None:
    if filter_type == 0:
        return
    for i in range(len(row)):
        left = row[i - step] if i >= step else 0
        up = previous[i]
        if filter_type == 1:
            row[i] = (row[i] + left) & 0xFF
        elif filter_type == 2:
            row[i] = (row[i] + up) & 0xFF
        elif filter_type == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif filter_type == 4:
            upper_left = previous[i - step] if i >= step else 0
            estimate = left + up - upper_left
            distances = (abs(estimate - left), abs(estimate - up), abs(estimate - upper_left))
            predictor = (left, up, upper_left)[distances.index(min(distances))]
            row[i] = (row[i] + predictor) & 0xFF
        else:
            raise AssertionError(f"unknown PNG filter {filter_type}")
