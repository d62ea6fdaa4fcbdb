"""The latent-space explorer: one self-contained HTML page, built from a decoder.

The page shows the encoded data in the 2-D view every figure uses
(:class:`~image_vae.vae.latent.Projection2D`), the image decoded under the
pointer, and walks from a chosen start toward a chosen class: along the class
direction (:func:`~image_vae.vae.latent.class_direction`, as the ``morph``
pipeline walks) or in a straight line to the class's mean code.

It is plain HTML with a canvas and a few lines of inline JavaScript, no
plotting library: the page draws a scatter, a crosshair, a path and image
tiles, which a canvas does in little code, and a library (Plotly's bundle is
~3.5 MB) would be most of the file and of little help with the image hover.
Every image the page can show is decoded here in advance and packed into one
sprite, a base64 PNG inside the page, so it needs no model, no server and no
network: it works opened from disk and inside MLflow's artifact view.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable, Sequence
from importlib.resources import files

import matplotlib as mpl
import numpy as np
from PIL import Image

from image_vae.vae.latent import (
    Projection2D,
    class_direction,
    grid_points,
    morph_path,
    straight_path,
)

_CLASS_COLORS = [mpl.colors.to_hex(c) for c in mpl.colormaps["tab10"].colors]
# Share of the scatter's range added on each side of the hover grid.
_MARGIN = 0.08
# The grid spans these percentiles of the projected codes (plus the margin), so a
# few far outliers do not stretch it over empty space.
_EXTENT_PERCENTILES = (0.5, 99.5)
WALK_MODES = ("morph", "straight")


def build_explorer_html(  # noqa: PLR0913  data, decoder and the page's settings
    decode: Callable[[np.ndarray], np.ndarray],
    z_mean: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    grid_size: int = 48,
    walk_steps: int = 11,
    morph_length: float = 3.0,
    seed: int = 0,
    title: str = "Latent-space explorer",
) -> str:
    """Builds the explorer page for encoded data and the decoder that made it.

    Args:
        decode: Maps ``(n, d)`` float32 codes to ``(n, H, W, C)`` (or
            ``(n, H, W)``) images in ``[0, 1]``, ``C`` 1 (gray) or 3 (RGB);
            e.g. ``VAE.decode``.
        z_mean: ``(N, d)`` posterior means of the data shown.
        labels: ``(N,)`` integer labels in ``[0, len(class_names))``.
        class_names: Class names in label order.
        grid_size: Hover grid points per side over the plane: the pointer shows
            the image of the nearest one (``grid_size²`` images in the sprite).
        walk_steps: Images along each walk, both ends included.
        morph_length: Distance walked along the unit class direction (the
            ``morph.length`` parameter).
        seed: Seed of the random start ``z₀ ~ N(0, I)``, drawn as the ``morph``
            pipeline draws it.
        title: The page's title.

    Returns:
        The page, a complete HTML document.

    Raises:
        ValueError: Shapes disagree, labels are out of range, fewer than two
            classes are present, or ``grid_size``/``walk_steps`` are below 2.
    """
    z = np.asarray(z_mean, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    _check(z, labels, class_names, grid_size, walk_steps)
    projection = Projection2D().fit(z)
    points = projection.transform(z)
    present = [c for c in range(len(class_names)) if (labels == c).any()]
    starts = _starts(z, labels, present, class_names, seed)
    walk_codes = []  # (start, class, mode, step) order, as the page indexes them
    for start in starts:
        for target in present:
            direction = class_direction(z, labels, target)
            class_mean = z[labels == target].mean(axis=0)
            walk_codes.append(
                morph_path(start["code"], direction, morph_length, walk_steps)
            )
            walk_codes.append(straight_path(start["code"], class_mean, walk_steps))
    walk_plane = [projection.transform(path) for path in walk_codes]

    # The grid covers the data and every walk, so all the page draws is in view.
    x_lim, y_lim = _extent(points, np.concatenate(walk_plane))
    grid_x = np.linspace(*x_lim, grid_size)
    grid_y = np.linspace(*y_lim, grid_size)[::-1]  # row 0 at the top
    grid_codes = projection.inverse_transform(grid_points(grid_x, grid_y))

    images = _as_images(
        decode(np.concatenate([grid_codes, *walk_codes]).astype(np.float32))
    )
    data = {
        "title": title,
        "classNames": list(class_names),
        "colors": _CLASS_COLORS,
        "axisLabels": list(projection.axis_labels),
        "latentDim": int(z.shape[1]),
        "isPca": bool(projection.is_pca),
        "points": _rounded(points),
        "labels": labels.tolist(),
        "grid": {"x": _rounded(grid_x), "y": _rounded(grid_y)},
        "tile": {"height": images.shape[1], "width": images.shape[2]},
        "columns": grid_size,
        "starts": [
            {
                "name": s["name"],
                "plane": _rounded(projection.transform(s["code"][None]))[0],
            }
            for s in starts
        ],
        "walk": {
            "classes": present,
            "modes": list(WALK_MODES),
            "steps": walk_steps,
            "length": morph_length,
            "plane": [_rounded(path) for path in walk_plane],
        },
    }
    sprite = _sprite_png(images, columns=grid_size)
    page = files("image_vae.vae").joinpath("explorer.html").read_text("utf-8")
    # "</" inside the JSON would end the <script> element early.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        page.replace("__EXPLORER_TITLE__", html.escape(title))
        .replace("__EXPLORER_DATA__", payload)
        .replace("__EXPLORER_SPRITE__", base64.b64encode(sprite).decode("ascii"))
    )


def _check(
    z: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    grid_size: int,
    walk_steps: int,
) -> None:
    if z.ndim != 2 or labels.shape != (len(z),) or len(z) < 2:
        raise ValueError(
            "Expected z_mean of shape (N, d), N >= 2, and labels of shape (N,). "
            f"Received: z_mean.shape={z.shape}, labels.shape={labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= len(class_names):
        raise ValueError(
            f"Expected labels in [0, {len(class_names)}) (one per class name). "
            f"Received: labels from {labels.min()} to {labels.max()}"
        )
    if len(np.unique(labels)) < 2:
        raise ValueError(
            "A class direction needs at least two classes in the data. "
            f"Received: only label {labels[0]}"
        )
    if grid_size < 2 or walk_steps < 2:
        raise ValueError(
            "Expected grid_size >= 2 and walk_steps >= 2. "
            f"Received: grid_size={grid_size}, walk_steps={walk_steps}"
        )


def _extent(
    points: np.ndarray, walks: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Per-axis ``(low, high)`` of the plane the hover grid covers: the bulk of
    the ``(N, 2)`` data points and all ``(M, 2)`` walk points."""
    low, high = np.percentile(points, _EXTENT_PERCENTILES, axis=0)
    low, high = np.minimum(low, walks.min(axis=0)), np.maximum(high, walks.max(axis=0))
    span = high - low
    # A 1-D latent (y = 0) or identical codes have no spread: give one unit.
    span = np.where(span > 0, span, 1.0)
    low, high = low - _MARGIN * span, low + (1 + _MARGIN) * span
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def _starts(
    z: np.ndarray,
    labels: np.ndarray,
    present: list[int],
    class_names: Sequence[str],
    seed: int,
) -> list[dict]:
    """Where walks may start: the morph pipeline's random ``z₀`` and, per class,
    the data point nearest to the class's mean code (a typical member)."""
    random = np.random.default_rng(seed).standard_normal(z.shape[1])
    starts = [{"name": f"random z₀ ~ N(0, I), seed {seed}", "code": random}]
    for c in present:
        members = np.flatnonzero(labels == c)
        distances = np.linalg.norm(z[members] - z[members].mean(axis=0), axis=1)
        index = int(members[distances.argmin()])
        starts.append(
            {"name": f"a typical {class_names[c]} (#{index})", "code": z[index]}
        )
    return starts


def _as_images(images: np.ndarray) -> np.ndarray:
    """Decoded images as ``(n, H, W, C)`` uint8, ``C`` 1 or 3."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in {1, 3}:
        raise ValueError(
            "Expected decoded images of shape (n, H, W, 1) or (n, H, W, 3). "
            f"Received: {images.shape}"
        )
    return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)


def _sprite_png(images: np.ndarray, columns: int) -> bytes:
    """Tiles ``(n, H, W, C)`` uint8 images row by row into one PNG."""
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    sheet = np.zeros((rows * height, columns * width, channels), np.uint8)
    for i, image in enumerate(images):
        row, column = divmod(i, columns)
        sheet[
            row * height : (row + 1) * height, column * width : (column + 1) * width
        ] = image
    mode = "L" if channels == 1 else "RGB"
    buffer = io.BytesIO()
    Image.fromarray(sheet[..., 0] if channels == 1 else sheet, mode).save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()


def _rounded(values: np.ndarray) -> list:
    """Coordinates to 3 decimals: ample on screen, a third of the JSON."""
    return np.round(np.asarray(values, dtype=np.float64), 3).tolist()
