"""Small image folders drawn with Pillow for tests (never committed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("disc", "square", "bar")


def draw(shape: str, size: tuple[int, int], mode: str, seed: int) -> Image.Image:
    """A filled shape of a random colour on a random background, ``size`` = (w, h)."""
    rng = np.random.default_rng(seed)
    w, h = size
    background = tuple(int(v) for v in rng.integers(0, 80, 3))
    colour = tuple(int(v) for v in rng.integers(120, 256, 3))
    image = Image.new("RGB", size, background)
    pen = ImageDraw.Draw(image)
    x0, y0 = int(rng.integers(0, w // 4 + 1)), int(rng.integers(0, h // 4 + 1))
    x1, y1 = (
        w - 1 - int(rng.integers(0, w // 4 + 1)),
        h - 1 - int(rng.integers(0, h // 4 + 1)),
    )
    if shape == "disc":
        pen.ellipse((x0, y0, x1, y1), fill=colour)
    elif shape == "square":
        pen.rectangle((x0, y0, x1, y1), fill=colour)
    else:
        pen.rectangle((x0, h // 3, x1, 2 * h // 3), fill=colour)
    return image.convert(mode)


def labelled_folder(  # noqa: PLR0917  folder settings, all defaulted
    root: Path,
    per_class: int = 8,
    sizes: tuple[tuple[int, int], ...] = ((40, 30), (36, 36), (24, 40)),
    mode: str = "RGB",
    suffixes: tuple[str, ...] = (".png", ".jpg", ".bmp"),
    classes: tuple[str, ...] = SHAPES,
) -> Path:
    """``root/<shape>/<i>.<suffix>``: images of several sizes and formats."""
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = draw(name, sizes[i % len(sizes)], mode, seed=100 * k + i)
            image.save(root / name / f"{i:03d}{suffixes[i % len(suffixes)]}")
    return root


def flat_folder(
    root: Path, count: int = 24, size: tuple[int, int] = (20, 20), mode: str = "L"
) -> Path:
    """``root/<i>.png``: unlabelled images."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        draw(SHAPES[i % 3], size, mode, seed=i).save(root / f"{i:03d}.png")
    return root
