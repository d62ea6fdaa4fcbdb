"""Latent-space maths for figures and traversals: pure NumPy.

Everything here works on arrays of latent codes; the caller encodes and decodes
with the model. Nothing here imports Keras, Kedro or MLflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def resolve_class(
    target: str | int, class_names: Sequence[str] = FASHION_MNIST_CLASSES
) -> int:
    """Turns a class name or index into a class index.

    Args:
        target: A class name, matched case-insensitively (``"Trouser"``,
            ``"trouser"``), or an index as an int or a digit string (``1``, ``"1"``).
        class_names: The class names, in label order.

    Returns:
        The class index, in ``[0, len(class_names))``.

    Raises:
        ValueError: ``target`` is neither a known name nor a valid index.
    """
    # bool is an int subclass, but True as "class 1" is surely a mistake.
    if isinstance(target, str):
        text = target.strip()
        lowered = [name.casefold() for name in class_names]
        if text.casefold() in lowered:
            return lowered.index(text.casefold())
        index = int(text) if text.isdigit() else None
    elif isinstance(target, int | np.integer) and not isinstance(target, bool):
        index = int(target)
    else:
        index = None
    if index is not None and 0 <= index < len(class_names):
        return index
    valid = ", ".join(f"{i}={name!r}" for i, name in enumerate(class_names))
    raise ValueError(
        f"Expected a class name or index among {valid}. Received: target={target!r}"
    )


def class_direction(z_mean: np.ndarray, labels: np.ndarray, target: int) -> np.ndarray:
    """Unit vector from the other classes' mean code to the target class's mean code.

    Args:
        z_mean: ``(N, d)`` posterior means of the encoded images.
        labels: ``(N,)`` integer class labels.
        target: The class index.

    Returns:
        ``(d,)`` float array of unit length.

    Raises:
        ValueError: Shapes disagree, the target class or all other classes are
            absent, or both means coincide (no direction).
    """
    z_mean = np.asarray(z_mean, dtype=float)
    labels = np.asarray(labels)
    if z_mean.ndim != 2 or labels.shape != (len(z_mean),):
        raise ValueError(
            "Expected z_mean of shape (N, d) and labels of shape (N,). "
            f"Received: z_mean.shape={z_mean.shape}, labels.shape={labels.shape}"
        )
    in_class = labels == target
    if not in_class.any() or in_class.all():
        missing = "the target class" if not in_class.any() else "every other class"
        raise ValueError(
            f"Need samples of both the target class and the others; {missing} has "
            f"none among {len(labels)} labels. Received: target={target!r}"
        )
    difference = z_mean[in_class].mean(axis=0) - z_mean[~in_class].mean(axis=0)
    norm = np.linalg.norm(difference)
    if not norm > 0:
        raise ValueError(
            "The target class and the others have the same mean code, so there is "
            f"no direction. Received: target={target!r}"
        )
    return difference / norm


def straight_path(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """Evenly spaced points from ``start`` to ``end``, both included.

    Args:
        start: ``(d,)`` first point.
        end: ``(d,)`` last point.
        steps: Number of points, at least 2.

    Returns:
        ``(steps, d)`` float array; row 0 is ``start`` and row ``-1`` is ``end``.

    Raises:
        ValueError: ``start`` and ``end`` differ in length or ``steps < 2``.
    """
    start = np.atleast_1d(np.asarray(start, dtype=float))
    end = np.atleast_1d(np.asarray(end, dtype=float))
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(
            "Expected start and end to be vectors of the same length. "
            f"Received: len(start)={start.size}, len(end)={end.size}"
        )
    if steps < 2:
        raise ValueError(f"Expected steps >= 2. Received: steps={steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    # (1 - t) * start + t * end hits both endpoints exactly, unlike start + t * delta.
    return (1.0 - t) * start + t * end


def morph_path(
    start: np.ndarray, direction: np.ndarray, length: float, steps: int
) -> np.ndarray:
    """Points from ``start`` along ``direction`` over a total distance ``length``.

    Args:
        start: ``(d,)`` first point.
        direction: ``(d,)`` direction; only its orientation matters.
        length: Euclidean distance from the first to the last point (negative
            walks the opposite way).
        steps: Number of points, at least 2.

    Returns:
        ``(steps, d)`` float array of evenly spaced points.

    Raises:
        ValueError: ``direction`` is zero, lengths differ, or ``steps < 2``.
    """
    direction = np.asarray(direction, dtype=float)
    norm = np.linalg.norm(direction)
    if not norm > 0:
        raise ValueError(
            f"Expected a non-zero direction. Received: direction={direction!r}"
        )
    start = np.asarray(start, dtype=float)
    return straight_path(start, start + length * direction / norm, steps)


class Projection2D:
    """The 2-D view of the latent space that every figure uses.

    ``d == 2``: the identity. ``d > 2``: the plane of the first two principal
    components of the fitted codes. ``d == 1``: ``x = z[0]`` and ``y = 0``.

    Attributes:
        latent_dim: ``d``, set by :meth:`fit`.
        mean: ``(d,)`` centre of the fitted codes (zeros unless PCA).
        components: ``(2, d)`` orthonormal rows spanning the plane (PCA only).
        explained_variance_ratio: ``(2,)`` share of the variance along each
            component, in ``[0, 1]`` (PCA only).
    """

    def __init__(self) -> None:
        self.latent_dim: int | None = None
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None
        self.explained_variance_ratio: np.ndarray | None = None

    def fit(self, z: np.ndarray) -> Projection2D:
        """Fits the projection to codes ``z`` of shape ``(N, d)``; returns ``self``.

        Raises:
            ValueError: ``z`` is not 2-D, or PCA (``d > 2``) gets fewer than two
                codes.
        """
        z = self._as_codes(z)
        self.latent_dim = z.shape[1]
        self.mean = np.zeros(self.latent_dim)
        if self.latent_dim <= 2:
            return self
        if len(z) < 2:
            raise ValueError(f"PCA needs at least 2 codes. Received: {len(z)}")
        self.mean = z.mean(axis=0)
        _, singular, vt = np.linalg.svd(z - self.mean, full_matrices=False)
        # SVD signs are arbitrary; fixing them keeps figures from flipping between
        # runs: each component's largest coordinate is made positive.
        signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
        self.components = (vt * signs[:, None])[:2]
        variance = singular**2
        total = variance.sum()
        # All-equal codes have no variance to share out; report 0 %, not NaN.
        self.explained_variance_ratio = variance[:2] / (total if total > 0 else 1.0)
        return self

    @property
    def is_pca(self) -> bool:
        """Whether the view is the PCA plane (``d > 2``)."""
        return self._fitted_dim() > 2

    @property
    def axis_labels(self) -> tuple[str, str]:
        """``(x label, y label)`` for plots of transformed points."""
        dim = self._fitted_dim()
        if dim == 1:
            return "z[0]", "(1-D latent: y = 0)"
        if dim == 2:
            return "z[0]", "z[1]"
        return tuple(
            f"PC {i + 1} ({100 * ratio:.0f} % var.)"
            for i, ratio in enumerate(self.explained_variance_ratio)
        )

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Maps ``(N, d)`` codes to ``(N, 2)`` plane coordinates."""
        z = self._as_codes(z, self._fitted_dim())
        if self.latent_dim == 1:
            return np.column_stack([z[:, 0], np.zeros(len(z))])
        if self.latent_dim == 2:
            return z.copy()
        return (z - self.mean) @ self.components.T

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """Maps ``(N, 2)`` plane coordinates back to ``(N, d)`` codes.

        For PCA the result lies in the plane: ``mean + points @ components``. For
        ``d == 1`` the ``y`` coordinate is dropped.
        """
        points = self._as_codes(points, 2)
        dim = self._fitted_dim()
        if dim == 1:
            return points[:, :1].copy()
        if dim == 2:
            return points.copy()
        return self.mean + points @ self.components

    def _fitted_dim(self) -> int:
        if self.latent_dim is None:
            raise ValueError("Projection2D is not fitted yet; call fit(z) first.")
        return self.latent_dim

    @staticmethod
    def _as_codes(z: np.ndarray, dim: int | None = None) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if z.ndim != 2 or (dim is not None and z.shape[1] != dim):
            expected = "(N, d)" if dim is None else f"(N, {dim})"
            raise ValueError(
                f"Expected an array of shape {expected}. Received: {z.shape}"
            )
        return z


def latent_grid(
    n: int, low_q: float = 0.05, high_q: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates at evenly spaced quantiles of the standard normal prior.

    Quantiles stay strictly inside ``(0, 1)``: the inverse CDF is infinite at
    the edges, the bug of grids built from ``linspace(0, 1)``.

    Args:
        n: Points per axis, at least 2.
        low_q: Lowest quantile, in ``(0, high_q)``.
        high_q: Highest quantile, in ``(low_q, 1)``.

    Returns:
        ``(coords_x, coords_y)``, each ``(n,)`` and finite: ``coords_x`` ascending,
        ``coords_y`` descending, so that row ``i`` of a row-major image grid (top
        row first) sits at ``coords_y[i]``. See :func:`grid_points`.

    Raises:
        ValueError: ``n < 2`` or the quantiles are not ``0 < low_q < high_q < 1``.
    """
    if n < 2 or not 0 < low_q < high_q < 1:
        raise ValueError(
            "Expected n >= 2 and 0 < low_q < high_q < 1. "
            f"Received: n={n}, low_q={low_q}, high_q={high_q}"
        )
    normal = NormalDist()
    coords = np.array([normal.inv_cdf(q) for q in np.linspace(low_q, high_q, n)])
    return coords, coords[::-1].copy()


def grid_points(coords_x: np.ndarray, coords_y: np.ndarray) -> np.ndarray:
    """All ``(x, y)`` grid points in row-major order (``y`` per row, ``x`` per column).

    Args:
        coords_x: ``(nx,)`` column coordinates.
        coords_y: ``(ny,)`` row coordinates, top row first.

    Returns:
        ``(ny * nx, 2)`` array; point ``i * nx + j`` is ``(coords_x[j], coords_y[i])``,
        the order :func:`image_vae.vae.plotting.plot_latent_manifold` expects.
    """
    xx, yy = np.meshgrid(coords_x, coords_y)
    return np.column_stack([xx.ravel(), yy.ravel()])
