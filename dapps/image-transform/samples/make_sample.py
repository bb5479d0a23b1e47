"""Draws samples/landscape.jpg, the sample input: a sky, a sun, hills and a lake, 320 x 240.

Run with the app's vendored Pillow, e.g. `PYTHONPATH=/path/to/vendor python3 make_sample.py`;
the drawing uses integer geometry only, so the JPEG comes out the same on every run.
"""

from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 320, 240


def landscape() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # sky: deep blue at the top to pale near the horizon
        draw.line([(0, y), (WIDTH, y)], fill=(40 + y // 2, 90 + y // 2, 200 + y // 5))
    draw.ellipse([230, 30, 280, 80], fill=(255, 214, 90))  # the sun
    draw.polygon([(0, 170), (70, 110), (150, 165), (220, 120), (320, 175), (320, 240),
                  (0, 240)], fill=(60, 130, 70))  # fmt: skip
    draw.polygon([(0, 200), (120, 150), (260, 205), (320, 190), (320, 240), (0, 240)],
                 fill=(35, 95, 50))  # fmt: skip
    draw.ellipse([40, 200, 200, 235], fill=(70, 130, 190))  # a lake
    return image


if __name__ == "__main__":
    target = Path(__file__).with_name("landscape.jpg")
    landscape().save(target, "JPEG", quality=85, optimize=True)
    print(f"{target}: {target.stat().st_size} bytes")
