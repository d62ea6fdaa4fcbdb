"""Figures of a VAE's training, reconstructions and latent space: pure matplotlib.

Each ``plot_*`` function builds and returns a new :class:`~matplotlib.figure.Figure`
and never shows, saves or closes it: the caller (a catalog dataset, a notebook)
does. Figures are made with ``Figure(...)`` rather than ``pyplot`` so that they
live outside pyplot's global registry and need no backend. Decoding is the
caller's job: these functions take decoded images, shaped ``(N, H, W, 1)``,
``(N, H, W)`` (grey) or ``(N, H, W, 3)`` (colour, shown in colour), floats in
``[0, 1]`` or uint8; non-square images keep their aspect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

_HISTORY_PANELS = (
    ("loss", "Total loss"),
    ("reconstruction_loss", "Reconstruction"),
    ("kl_loss", "KL divergence"),
)
# More tick labels than this on a mosaic axis would run into each other.
_MAX_TICK_LABELS = 12
# Image strips wrap after this many images to keep figures README-sized.
_MAX_IMAGE_COLUMNS = 10
_IMAGE_TITLE_SIZE = 9
_CLASS_COLORS = mpl.colormaps["tab10"].colors


@dataclass(frozen=True)
class LatentScatter:
    """Encoded data in the 2-D view: the backdrop of every latent-space figure.

    Attributes:
        points_2d: ``(N, 2)`` projected codes (e.g. ``Projection2D.transform``).
        labels: ``(N,)`` integer class labels, in ``[0, len(class_names))``.
        class_names: Class names in label order; empty for unlabelled data (one
            colour, no class legend, labels ignored).
        axis_labels: ``(x label, y label)``, e.g. ``Projection2D.axis_labels``.
    """

    points_2d: np.ndarray
    labels: np.ndarray
    class_names: Sequence[str]
    axis_labels: tuple[str, str]

    def __post_init__(self) -> None:
        points = np.asarray(self.points_2d, dtype=float)
        labels = np.asarray(self.labels).astype(int)
        if points.ndim != 2 or points.shape[1] != 2 or labels.shape != (len(points),):
            raise ValueError(
                "Expected points_2d of shape (N, 2) and labels of shape (N,). "
                f"Received: points_2d.shape={points.shape}, labels.shape={labels.shape}"
            )
        if (
            len(self.class_names)
            and labels.size
            and not 0 <= labels.min() <= labels.max() < len(self.class_names)
        ):
            raise ValueError(
                f"Expected labels in [0, {len(self.class_names)}). "
                f"Received: labels from {labels.min()} to {labels.max()}"
            )
        # Frozen, so the normalised arrays are stored through object.__setattr__.
        object.__setattr__(self, "points_2d", points)
        object.__setattr__(self, "labels", labels)


def plot_training_history(history: pd.DataFrame) -> Figure:
    """Training and validation losses per epoch, one panel per loss term.

    Args:
        history: One row per epoch with columns ``epoch``, ``loss``,
            ``reconstruction_loss``, ``kl_loss`` and, when validation ran,
            ``val_loss``, ``val_reconstruction_loss``, ``val_kl_loss`` (nats per
            image).

    Returns:
        A figure with three panels: total loss, reconstruction and KL divergence.

    Raises:
        ValueError: A required column is missing.
    """
    required = ["epoch", *(column for column, _ in _HISTORY_PANELS)]
    missing = [column for column in required if column not in history.columns]
    if missing:
        raise ValueError(
            f"History lacks columns {missing}. Received: {list(history.columns)}"
        )
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    for ax, (column, title) in zip(fig.subplots(1, 3), _HISTORY_PANELS, strict=True):
        # Markers keep a one-epoch history visible: a single point draws no line.
        ax.plot(history["epoch"], history[column], marker="o", ms=4, label="training")
        if f"val_{column}" in history.columns:
            ax.plot(
                history["epoch"],
                history[f"val_{column}"],
                marker="s",
                ms=4,
                label="validation",
            )
        ax.set(title=title, xlabel="epoch", ylabel="nats per image")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if history["epoch"].nunique() == 1:
            # A zero-width range defeats the integer locator: widen it by an epoch.
            epoch = history["epoch"].iloc[0]
            ax.set_xlim(epoch - 1, epoch + 1)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    title: str = "Reconstructions",
) -> Figure:
    """Originals on the top row, their reconstructions below, one column each.

    Args:
        originals: ``(N, H, W, 1)`` or ``(N, H, W)`` images in ``[0, 1]``.
        reconstructions: Decoded images of the same shape, in ``[0, 1]``.
        labels: ``(N,)`` class labels, shown as column titles.
        class_names: Class names in label order.
        title: Figure title.

    Returns:
        A figure with ``2 * N`` image axes.

    Raises:
        ValueError: Shapes disagree.
    """
    originals = _as_images(originals)
    reconstructions = _as_images(reconstructions)
    if reconstructions.shape != originals.shape or len(labels) != len(originals):
        raise ValueError(
            "Expected originals and reconstructions of one shape and one label each. "
            f"Received: originals {originals.shape}, reconstructions "
            f"{reconstructions.shape}, {len(labels)} labels"
        )
    n = len(originals)
    fig = Figure(figsize=(max(1.2 * n, 4.0), 3.2), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for j in range(n):
        _show_image(axes[0, j], originals[j], class_names[int(labels[j])])
        _show_image(axes[1, j], reconstructions[j])
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("reconstruction")
    fig.suptitle(title)
    return fig


def plot_latent_scatter(
    scatter: LatentScatter, title: str = "Test images in latent space"
) -> Figure:
    """Encoded images in the 2-D view, coloured by class.

    Args:
        scatter: The projected codes, labels and axis labels.
        title: Axes title.

    Returns:
        A one-axes figure with the class legend outside the axes.
    """
    fig = Figure(figsize=(8, 6), layout="constrained")
    ax = fig.subplots()
    _draw_scatter(ax, scatter)
    ax.set_title(title)
    _add_class_legend(fig, scatter.class_names)
    return fig


def plot_prior_samples(
    images: np.ndarray,
    sample_points_2d: np.ndarray,
    scatter: LatentScatter,
    title: str = "Samples from the prior",
) -> Figure:
    """Decoded prior samples beside a map of where they were drawn.

    Args:
        images: ``(K, H, W, 1)`` or ``(K, H, W)`` decoded samples in ``[0, 1]``.
        sample_points_2d: ``(K, 2)`` the samples' codes in the 2-D view.
        scatter: Encoded data drawn behind the samples.
        title: Figure title.

    Returns:
        A figure with the numbered images in a grid on the left and, on the right,
        the scatter with each sample marked by a black cross and its number.

    Raises:
        ValueError: ``sample_points_2d`` does not have one row per image.
    """
    images = _as_images(images)
    points = _as_points(sample_points_2d, len(images), "sample_points_2d")
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=(1, 1.35))
    numbers = [str(i + 1) for i in range(len(images))]
    _image_grid(left, images, numbers, columns=math.ceil(math.sqrt(len(images))))
    ax = right.subplots()
    _draw_scatter(ax, scatter)
    ax.scatter(points[:, 0], points[:, 1], marker="x", s=40, c="black", zorder=3)
    # A white halo keeps the numbers legible on top of dense clusters.
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for number, (x, y) in zip(numbers, points, strict=True):
        ax.annotate(
            number,
            (x, y),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            path_effects=halo,
            zorder=4,
        )
    sample = Line2D([], [], marker="x", color="black", ls="", label="prior sample")
    _add_class_legend(right, scatter.class_names, extra=[sample])
    fig.suptitle(title)
    return fig


def plot_latent_manifold(
    images: np.ndarray,
    coords_x: np.ndarray,
    coords_y: np.ndarray,
    axis_labels: tuple[str, str],
    title: str = "Decoded latent grid",
) -> Figure:
    """Images decoded on a grid, tiled into one mosaic with ``y`` growing upwards.

    Args:
        images: ``(ny * nx, H, W, 1)`` or ``(ny * nx, H, W)`` images in ``[0, 1]``,
            row-major: image ``i * nx + j`` was decoded at
            ``(coords_x[j], coords_y[i])`` (see ``latent.grid_points``).
        coords_x: ``(nx,)`` grid coordinates along the horizontal axis.
        coords_y: ``(ny,)`` grid coordinates along the vertical axis, any order:
            rows are placed so that the largest ``y`` is on top.
        axis_labels: ``(x label, y label)``.
        title: Axes title.

    Returns:
        A one-axes figure, ticks at the grid coordinates.

    Raises:
        ValueError: The number of images is not ``len(coords_x) * len(coords_y)``.
    """
    images = _as_images(images)
    coords_x = np.asarray(coords_x, dtype=float)
    coords_y = np.asarray(coords_y, dtype=float)
    nx, ny = len(coords_x), len(coords_y)
    if len(images) != nx * ny:
        raise ValueError(
            f"Expected len(coords_x) * len(coords_y) = {nx} * {ny} images. "
            f"Received: {len(images)}"
        )
    height, width = images.shape[1:3]
    depth = images.shape[3:]  # () for grey, (3,) for colour
    rows = np.argsort(-coords_y, kind="stable")
    cols = np.argsort(coords_x, kind="stable")
    grid = images.reshape(ny, nx, height, width, *depth)[rows][:, cols]
    mosaic = grid.swapaxes(1, 2).reshape(ny * height, nx * width, *depth)
    aspect = (ny * height) / (nx * width)
    fig = Figure(figsize=(7.5, 7.5 * aspect + 0.5), layout="constrained")
    ax = fig.subplots()
    _imshow(ax, mosaic)
    ax.set_xticks(_tile_centres(nx, width), _tick_labels(coords_x[cols]))
    ax.set_yticks(_tile_centres(ny, height), _tick_labels(coords_y[rows]))
    ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1], title=title)
    return fig


def plot_latent_path(
    path_points_2d: np.ndarray,
    images: np.ndarray,
    coords: np.ndarray,
    scatter: LatentScatter,
    title: str,
) -> Figure:
    """A path through latent space over the data, and the images decoded along it.

    Serves interpolations between two codes and morphs along a class direction.

    Args:
        path_points_2d: ``(steps, 2)`` the path in the 2-D view.
        images: ``(steps, H, W, 1)`` or ``(steps, H, W)`` decoded images in
            ``[0, 1]``.
        coords: ``(steps, d)`` the path's latent codes, shown as image titles
            (for ``d > 2``: the step and the first two coordinates).
        scatter: Encoded data drawn behind the path.
        title: Figure title, e.g. ``"Morph toward 'Trouser'"``.

    Returns:
        A figure with the scatter and path on top (start and end marked) and the
        images below, wrapped after ten per row.

    Raises:
        ValueError: ``path_points_2d`` or ``coords`` do not have one row per image.
    """
    images = _as_images(images)
    path = _as_points(path_points_2d, len(images), "path_points_2d")
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 2 or len(coords) != len(images):
        raise ValueError(
            f"Expected coords of shape ({len(images)}, d). Received: {coords.shape}"
        )
    columns = min(len(images), _MAX_IMAGE_COLUMNS)
    image_rows = math.ceil(len(images) / columns)
    fig = Figure(
        figsize=(max(1.25 * columns, 9.0), 5.0 + 1.5 * image_rows),
        layout="constrained",
    )
    top, bottom = fig.subfigures(2, 1, height_ratios=(5.0, 1.5 * image_rows))
    ax = top.subplots()
    _draw_scatter(ax, scatter)
    style = {"color": "black", "zorder": 3}
    ax.plot(path[:, 0], path[:, 1], "-o", ms=3, mfc="white", lw=1.5, **style)
    ax.plot(*path[0], "o", ms=9, **style)
    ax.plot(*path[-1], "*", ms=14, **style)
    extra = [
        Line2D([], [], marker="o", ms=9, ls="", label="start", **style),
        Line2D([], [], marker="*", ms=14, ls="", label="end", **style),
    ]
    _add_class_legend(top, scatter.class_names, extra=extra)
    _image_grid(bottom, images, _code_titles(coords), columns=columns)
    fig.suptitle(title)
    return fig


def _as_images(images: np.ndarray) -> np.ndarray:
    """Grey images as ``(N, H, W)``, colour ones as ``(N, H, W, 3)``, floats in
    [0, 1] (uint8 pixels are scaled)."""
    images = np.asarray(images)
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) else 1.0
    images = images.astype(float) / scale
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 and not (images.ndim == 4 and images.shape[-1] == 3):
        raise ValueError(
            "Expected images of shape (N, H, W, 1), (N, H, W) or (N, H, W, 3). "
            f"Received: {images.shape}"
        )
    return np.clip(images, 0.0, 1.0)


def _as_points(points: np.ndarray, count: int, name: str) -> np.ndarray:
    points = np.asarray(points, dtype=float)
    if points.shape != (count, 2):
        raise ValueError(
            f"Expected {name} of shape ({count}, 2). Received: {points.shape}"
        )
    return points


def _show_image(ax: Axes, image: np.ndarray, title: str | None = None) -> None:
    """Shows an image without ticks or frame; a y label stays possible."""
    _imshow(ax, image)
    # Hiding ticks and spines rather than axis("off") keeps set_ylabel working.
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)
    if title is not None:
        ax.set_title(title, fontsize=_IMAGE_TITLE_SIZE)


def _imshow(ax: Axes, image: np.ndarray) -> None:
    """Grey images through a grey colour map, colour ones as they are; square
    pixels, so a non-square image keeps its shape."""
    if image.ndim == 2:
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, aspect="equal")
    else:
        ax.imshow(image, aspect="equal")


def _image_grid(
    fig: FigureBase, images: np.ndarray, titles: Sequence[str], columns: int
) -> None:
    """Fills ``fig`` with the images, row by row, each under its title."""
    rows = math.ceil(len(images) / columns)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, image, title in zip(axes, images, titles, strict=False):
        _show_image(ax, image, title)
    for ax in axes[len(images) :]:
        ax.set_axis_off()


def _draw_scatter(ax: Axes, scatter: LatentScatter) -> None:
    """Draws the encoded data, one colour per class, and labels the axes."""
    colors = (
        np.array(_CLASS_COLORS)[scatter.labels % len(_CLASS_COLORS)]
        if len(scatter.class_names)
        else np.array([_CLASS_COLORS[0]])
    )
    # One call in data order, so no class is systematically painted over the
    # others; rasterised so vector outputs stay small with many points.
    ax.scatter(
        scatter.points_2d[:, 0],
        scatter.points_2d[:, 1],
        c=colors,
        s=4,
        alpha=0.5,
        linewidths=0,
        rasterized=True,
    )
    ax.set(xlabel=scatter.axis_labels[0], ylabel=scatter.axis_labels[1])
    if not np.any(scatter.points_2d[:, 1]):
        # A 1-D latent lies on y = 0: y ticks would only show rounding noise.
        ax.set_yticks([])
    ax.grid(alpha=0.3)


def _add_class_legend(
    fig: FigureBase, class_names: Sequence[str], extra: Sequence[Line2D] = ()
) -> None:
    """Puts a legend of ``extra`` markers and class colours right of the axes.

    Outside the axes, so it hides no points; opaque markers, because the scatter's
    transparency would make its colours hard to read in the legend.
    """
    handles = [*extra] + [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=_CLASS_COLORS[i % len(_CLASS_COLORS)],
            label=name,
        )
        for i, name in enumerate(class_names)
    ]
    if not handles:  # unlabelled data, nothing marked
        return
    fig.legend(handles=handles, loc="outside right upper", frameon=False)


def _tile_centres(count: int, size: int) -> np.ndarray:
    """Pixel positions of the centres of ``count`` tiles of ``size`` pixels."""
    return np.arange(count) * size + (size - 1) / 2


def _tick_labels(values: np.ndarray) -> list[str]:
    """Two-decimal labels; every k-th, counted in from the nearer end, if crowded.

    Counting from the nearer end keeps both extremes labelled and a symmetric
    grid's labels symmetric.
    """
    last = len(values) - 1
    every = math.ceil(len(values) / _MAX_TICK_LABELS)
    return [
        f"{v:.2f}" if min(i, last - i) % every == 0 else ""
        for i, v in enumerate(values)
    ]


def _code_titles(coords: np.ndarray) -> list[str]:
    """Short image titles for latent codes: all coordinates when ``d <= 2``."""
    if coords.shape[1] <= 2:
        return ["(" + ", ".join(f"{v:.2f}" for v in row) + ")" for row in coords]
    return [
        f"step {i + 1}\n({row[0]:.2f}, {row[1]:.2f}, …)" for i, row in enumerate(coords)
    ]
