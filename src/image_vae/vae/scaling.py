"""Model input in [0, 1]: images are stored as uint8 and scaled one batch at a time.

Keeping the stored arrays uint8 (4x smaller than float32, and memory-mapped by the
catalog) is what lets a set larger than RAM train; every place that hands images
to a network calls one of these two helpers on the batch it is about to use.
"""

from __future__ import annotations

import mmap

import numpy as np
import tensorflow as tf

_UINT8_MAX = 255.0


def unit_batch(batch: np.ndarray) -> np.ndarray:
    """One batch as float32 in [0, 1]: integer pixels divided by 255, floats as is.

    Args:
        batch: ``(n, H, W, C)`` uint8 pixels, or floats already in [0, 1] (latent
            codes and decoded images pass through unchanged, as float32).
    """
    batch = np.asarray(batch)
    if np.issubdtype(batch.dtype, np.integer):
        return batch.astype(np.float32) / np.float32(_UINT8_MAX)
    return batch.astype(np.float32, copy=False)


def unit_tensor(batch: tf.Tensor) -> tf.Tensor:
    """:func:`unit_batch` inside a ``tf.data`` pipeline (uint8 scaled in-graph)."""
    if batch.dtype.is_integer:
        return tf.cast(batch, tf.float32) / _UINT8_MAX
    return tf.cast(batch, tf.float32)


class RowReader:
    """Gathers rows of a (memory-mapped) image array for the input pipelines.

    Pages of a memory-mapped file that have been read stay mapped, and count as
    the process's resident memory, until the mapping is told otherwise: after
    every ``release_bytes`` read, the reader hands them back to the page cache
    (``madvise(MADV_DONTNEED)``; the file is read-only, so nothing is lost), so
    an epoch over a set larger than RAM keeps a bounded footprint. Plain arrays
    are indexed as they are.

    Args:
        images: ``(n, H, W, C)`` array, often a read-only ``np.memmap``.
        release_bytes: Bytes read between two releases.
    """

    def __init__(self, images: np.ndarray, release_bytes: int = 64 * 2**20) -> None:
        self.images = images
        self.release_bytes = release_bytes
        self._mapping = getattr(images, "_mmap", None)
        self._read = 0

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        batch = self.images[rows]
        if self._mapping is not None and hasattr(self._mapping, "madvise"):
            self._read += batch.nbytes
            if self._read >= self.release_bytes:
                self._read = 0
                self._mapping.madvise(mmap.MADV_DONTNEED)
        return batch
