"""Model input in [0, 1]: images are stored as uint8 and scaled one batch at a time.

Keeping the stored arrays uint8 (4x smaller than float32, and memory-mapped by the
catalog) is what lets a set larger than RAM train; every place that hands images
to a network calls one of these two helpers on the batch it is about to use.
:class:`RowReader` and :func:`row_batches` feed such batches to ``fit``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

_UINT8_MAX = 255.0
# The input pipelines' fixed parallelism: batches being gathered at once, and
# batches read ahead of the training step. Gathering a batch takes far less than
# a step, so two of each keep the step fed (see row_batches).
_GATHERERS = 2
_READ_AHEAD = 2


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

    Pages of a memory-mapped file that are touched stay mapped, and count as the
    process's resident memory, and the kernel maps more than it is asked for
    (read-ahead, fault-around, large page-cache folios): gathering random rows
    of 150,000 images of 64×64×3 left 1.0 GB of the file resident after 300
    batches of 400, against 147 MB read. So rows of a whole memory-mapped
    ``.npy`` are read with ``os.pread`` instead: through the page cache, which
    the kernel reclaims, never into the process. Other arrays (in memory,
    Fashion-MNIST's 60 MB) are indexed as they are.

    Args:
        images: ``(n, H, W, C)`` array, often a read-only ``np.memmap``.
    """

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self._file = None
        whole_file = isinstance(images, np.memmap) and images.base is getattr(
            images, "_mmap", None
        )
        if whole_file and images.filename and images.flags.c_contiguous:
            self._file = open(images.filename, "rb")  # noqa: SIM115  kept open
            self._offset = images.offset
            self._row_bytes = images[0].nbytes if len(images) else 0

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if self._file is None:
            return self.images[rows]
        batch = np.empty((len(rows), *self.images.shape[1:]), self.images.dtype)
        descriptor = self._file.fileno()
        for i, row in enumerate(np.asarray(rows, dtype=np.int64)):
            read = os.preadv(
                descriptor, [batch[i]], self._offset + int(row) * self._row_bytes
            )
            if read != self._row_bytes:
                raise OSError(f"{self.images.filename}: short read of row {row}")
        return batch


def row_batches(
    n_rows: int,
    batch_size: int,
    gather: Callable[[tf.Tensor], tf.Tensor | tuple[tf.Tensor, ...]],
    *,
    shuffle: bool,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches of row numbers ``0 … n_rows - 1``, each mapped by ``gather``.

    Shuffles row numbers rather than rows (reshuffled every epoch), so no
    shuffle buffer holds a copy of the data, and gathers a fixed number of
    batches in parallel and ahead of the step.

    tf.data's autotuning is off. Its model thread makes the deletion of an
    iterator wait for it, and Keras deletes one after every epoch and every
    validation pass: measured here, epochs began after up to 17 s of waiting
    (35 s in a full-size run). With fixed parallelism the wait is gone and the
    epochs are as fast (bench/README.md).

    Args:
        n_rows: Rows in the array ``gather`` reads.
        batch_size: Rows per batch; the last batch may be smaller.
        gather: Maps a 1-D int64 tensor of row numbers to the batch.
        shuffle: Whether to reshuffle the order every epoch.
        seed: Shuffle seed; the same seed gives the same order of batches.
    """
    rows = tf.data.Dataset.range(n_rows)
    if shuffle:
        rows = rows.shuffle(n_rows, seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        rows.batch(batch_size)
        .map(gather, num_parallel_calls=_GATHERERS)
        .prefetch(_READ_AHEAD)
        .with_options(options)
    )
