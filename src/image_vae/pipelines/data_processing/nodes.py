"""Nodes of the ``data_processing`` pipeline: raw uint8 IDX arrays → model input."""

from __future__ import annotations

import numpy as np

from image_vae.datasets.idx_format import RawDataError
from image_vae.vae.preprocessing import preprocess_images


def select_subset(
    images: np.ndarray, labels: np.ndarray, keep: int | None, split: str
) -> tuple[np.ndarray, np.ndarray]:
    """Checks images and labels agree, then keeps the first ``keep`` of each.

    Args:
        images: ``(N, H, W)`` uint8 raw images.
        labels: ``(N,)`` uint8 raw labels.
        keep: How many samples to keep; ``None`` keeps all.
        split: ``"train"`` or ``"test"``, named in errors.

    Returns:
        The (possibly shortened) images and labels, labels as ``int64``.
    """
    if len(images) != len(labels):
        raise RawDataError(
            f"{split}_images_raw has {len(images)} images but {split}_labels_raw has "
            f"{len(labels)} labels; the files must come from the same release"
        )
    if keep is not None and keep > len(images):
        raise RawDataError(
            f"data_processing.subset.{split}: got {keep}; allowed: at most "
            f"{len(images)} (the {split} set's size) or null for all"
        )
    stop = len(images) if keep is None else keep
    return images[:stop], labels[:stop].astype(np.int64)


def prepare_split(
    images_raw: np.ndarray,
    labels_raw: np.ndarray,
    pad: int,
    keep: int | None,
    *,
    split: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Subsets, normalises to [0, 1], zero-pads and adds the channel axis.

    Args:
        images_raw: ``(N, H, W)`` uint8 raw images.
        labels_raw: ``(N,)`` uint8 raw labels.
        pad: Zero border added on each side.
        keep: How many samples to keep; ``None`` keeps all.
        split: ``"train"`` or ``"test"``, named in errors.

    Returns:
        ``(n, H + 2·pad, W + 2·pad, 1)`` float32 images in [0, 1] and ``(n,)`` int64
        labels.
    """
    images, labels = select_subset(images_raw, labels_raw, keep, split)
    return preprocess_images(images, pad=pad), labels
