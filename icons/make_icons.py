"""Draws the app icon (an envelope with a check mark) and writes every size the bundler needs.

Run with a Python that has Pillow: `.ci-venv/bin/python icons/make_icons.py` (the test script
creates that venv). The PNGs are committed; rerun only when the design changes.
"""
from pathlib import Path
from PIL import Image, ImageDraw, ImageFilter

S = 1024
OUT = Path(__file__).resolve().parent


def draw() -> Image.Image:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    # rounded tile
    d.rounded_rectangle((40, 40, S - 40, S - 40), radius=200, fill=(18, 62, 110, 255))
    d.rounded_rectangle((40, 40, S - 40, S // 2), radius=200, fill=(24, 80, 140, 255))
    d.rectangle((40, 300, S - 40, S // 2), fill=(24, 80, 140, 255))
    # envelope body
    ex0, ey0, ex1, ey1 = 170, 290, 854, 760
    shadow = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle((ex0 + 10, ey0 + 24, ex1 + 10, ey1 + 24), radius=48, fill=(0, 0, 0, 110))
    img.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(18)))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((ex0, ey0, ex1, ey1), radius=48, fill=(250, 251, 253, 255))
    # lower folds
    d.polygon([(ex0 + 10, ey1 - 10), (512, 540), (ex1 - 10, ey1 - 10)], fill=(226, 233, 242, 255))
    # flap
    d.polygon([(ex0 + 6, ey0 + 20), (512, 590), (ex1 - 6, ey0 + 20)], fill=(236, 241, 248, 255))
    d.line([(ex0 + 30, ey0 + 36), (512, 572), (ex1 - 30, ey0 + 36)], fill=(170, 186, 206, 255), width=14, joint="curve")
    # check badge
    cx, cy, r = 760, 730, 170
    d.ellipse((cx - r - 16, cy - r - 16, cx + r + 16, cy + r + 16), fill=(18, 62, 110, 255))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(34, 170, 96, 255))
    d.line([(cx - 88, cy + 4), (cx - 22, cy + 72), (cx + 96, cy - 70)], fill=(255, 255, 255, 255), width=48, joint="curve")
    for (x, y) in [(cx - 88, cy + 4), (cx - 22, cy + 72), (cx + 96, cy - 70)]:
        d.ellipse((x - 24, y - 24, x + 24, y + 24), fill=(255, 255, 255, 255))
    return img


def main() -> None:
    big = draw()
    for name, size in [("32x32.png", 32), ("64x64.png", 64), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        big.resize((size, size), Image.LANCZOS).save(OUT / name)
    big.resize((256, 256), Image.LANCZOS).save(OUT / "icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


if __name__ == "__main__":
    main()
