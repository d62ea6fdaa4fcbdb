"""What an array handed between pipelines must look like, checked when it loads.

The expectations come from the catalog entry (``expected:``), not from code, so
the dataset that stores images as float32 in [0, 1] today and as uint8 in
[0, 255] tomorrow is checked against what its own entry says::

    expected: {dtype: float32, ndim: 4, shape: [null, 32, 32, 1], min: 0, max: 1}

An array of the wrong kind then stops the run with one line naming the file,
instead of training silently on garbage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from image_vae.errors import UserFacingError

_KEYS = {"dtype", "ndim", "shape", "min", "max", "finite"}


class ArrayFileError(UserFacingError):
    """A stored array is unreadable, or not of the kind its catalog entry expects."""


def validate_expectations(expected: dict[str, Any] | None) -> dict[str, Any]:
    """Checks the catalog's ``expected:`` mapping itself (a typo is a config error)."""
    expected = dict(expected or {})
    unknown = set(expected) - _KEYS
    if unknown:
        raise ArrayFileError(
            f"expected: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}"
        )
    return expected


def _dtypes(value: Any) -> list[np.dtype]:
    return [np.dtype(v) for v in (value if isinstance(value, list) else [value])]


def check_array(array: np.ndarray, expected: dict[str, Any], source: str) -> None:
    """Raises ``ArrayFileError`` when ``array`` breaks an expectation.

    Args:
        array: The loaded array (possibly memory-mapped: the range check reads it).
        expected: ``dtype`` (one or a list), ``ndim``, ``shape`` (``null`` for any
            size), ``min``/``max`` (inclusive), ``finite`` (no NaN or inf).
        source: The file, for the message.
    """
    problems = []
    if "dtype" in expected and array.dtype not in _dtypes(expected["dtype"]):
        problems.append(f"dtype {array.dtype}, expected {expected['dtype']}")
    if "ndim" in expected and array.ndim != expected["ndim"]:
        problems.append(
            f"{array.ndim} dimensions {array.shape}, expected {expected['ndim']}"
        )
    shape = expected.get("shape")
    if shape is not None and (
        len(shape) != array.ndim
        or any(
            w is not None and w != s for w, s in zip(shape, array.shape, strict=True)
        )
    ):
        wanted = "×".join("N" if w is None else str(w) for w in shape)
        problems.append(f"shape {array.shape}, expected {wanted}")
    if not problems and array.size and {"min", "max", "finite"} & set(expected):
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            problems.append("NaN or infinite values")
        else:
            low, high = array.min(), array.max()
            if low < expected.get("min", low) or high > expected.get("max", high):
                problems.append(
                    f"values in [{low}, {high}], expected within "
                    f"[{expected.get('min', '-inf')}, {expected.get('max', 'inf')}]"
                )
    if problems:
        raise ArrayFileError(f"{source}: {'; '.join(problems)}")
