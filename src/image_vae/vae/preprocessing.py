"""Turning raw uint8 images into model input."""

from __future__ import annotations

import numpy as np


def preprocess_images(images: np.ndarray, pad: int = 2) -> np.ndarray:
    """Normalises to [0, 1], zero-pads each side and adds a channel axis.

    Args:
        images: ``(N, H, W)`` uint8 images, or ``(N, H, W, C)``.
        pad: Zero border added on each side (≥ 0).

    Returns:
        ``(N, H + 2·pad, W + 2·pad, C)`` float32 in [0, 1] (``C = 1`` for 3-D input).
    """
    if pad < 0:
        raise ValueError(f"pad must be ≥ 0, received pad={pad}")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(
            "expected images of shape (N, H, W) or (N, H, W, C), "
            f"received {images.shape}"
        )
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) else 1.0
    out = np.zeros(
        (
            images.shape[0],
            images.shape[1] + 2 * pad,
            images.shape[2] + 2 * pad,
            images.shape[3],
        ),
        dtype=np.float32,
    )
    out[:, pad : pad + images.shape[1], pad : pad + images.shape[2], :] = images / scale
    return out
