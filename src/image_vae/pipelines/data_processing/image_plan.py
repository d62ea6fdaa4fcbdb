"""Deciding the model input from the raw images: split, size, channels, checks.

The plan is made before any image is written: every file is decoded once here,
so that undecodable files and unconvertible modes are reported together, by
path, in one message, before data processing writes anything or training starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from image_vae.datasets.idx_format import RawDataError
from image_vae.datasets.image_source import RawImages, RawSplit
from image_vae.vae.preprocessing import (
    GREY_MODES,
    StreamedImages,
    choose_shape,
    fit_image,
    pad_arrays,
    to_mode,
)

logger = logging.getLogger(__name__)
_CHUNK = 1024
_PIL_MODE = {1: "L", 3: "RGB"}


class UnusableImagesError(RawDataError):
    """Some images cannot be decoded or converted; the message lists them all."""


@dataclass(frozen=True)
class ImagePlan:
    """The two splits and the model input's ``(H, W, C)`` and resize mode."""

    train: RawSplit
    test: RawSplit
    shape: tuple[int, int, int]
    resize: str

    def split(self, name: str) -> RawSplit:
        return self.train if name == "train" else self.test


def split_off_test(
    split: RawSplit, fraction: float, seed: int
) -> tuple[RawSplit, RawSplit]:
    """A seeded test split, stratified by class when labelled.

    Each class gives ``round(fraction · n_class)`` images (at least one, if it
    has two or more) to the test split; both splits are shuffled.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(split))
    if split.labels is None:
        groups = [order]
    else:
        groups = [order[split.labels[order] == c] for c in np.unique(split.labels)]
    test = []
    for group in groups:
        k = round(fraction * len(group))
        test.extend(group[: max(k, 1 if len(group) > 1 else 0)])
    test_set = set(int(i) for i in test)
    train = [int(i) for i in order if int(i) not in test_set]
    if not train or not test:
        raise RawDataError(
            f"data_processing.test_fraction: got {fraction}; with {len(split)} "
            "images one split would be empty; allowed: more images, another "
            "fraction, or a data_processing.test_path"
        )
    return split.take(np.array(train)), split.take(rng.permutation(np.array(test)))


def keep_first(split: RawSplit, keep: int | None) -> RawSplit:
    """At most the first ``keep`` images (all for ``None``).

    "At most", so that a small folder runs in the ``smoke`` environment too;
    for Fashion-MNIST a subset larger than the set is refused before any node
    runs (``parameters``), from the IDX headers.
    """
    if keep is None or keep >= len(split):
        return split
    return split.take(np.arange(keep))


def _scan(split: RawSplit) -> tuple[np.ndarray, dict[str, list[str]], list[str]]:
    """Decodes every file: sizes ``(n, 2)``, paths by mode, and failures."""
    if split.arrays is not None:
        h, w = split.arrays.shape[1:3]
        mode = "RGB" if split.arrays.ndim == 4 and split.arrays.shape[3] == 3 else "L"
        return np.array([[h, w]]), {mode: []}, []
    sizes = np.zeros((len(split), 2), dtype=np.int64)
    by_mode: dict[str, list[str]] = {}
    failures = []
    for i, path in enumerate(split.paths):
        try:
            image = split.opener(path)
        except (
            OSError,
            ValueError,
            SyntaxError,
            Image.DecompressionBombError,
        ) as error:
            failures.append(f"{path}: {str(error).splitlines()[0]}")
            continue
        sizes[i] = image.height, image.width
        by_mode.setdefault(image.mode, []).append(path)
    return sizes, by_mode, failures


def make_plan(raw: RawImages, params: dict[str, Any], n_conv: int) -> ImagePlan:
    """Splits, subsets and checks the images, and chooses the model input shape.

    Args:
        raw: The opened source.
        params: The ``data_processing`` parameters.
        n_conv: Stride-2 convolutions of the encoder (``len(training.filters)``).

    Raises:
        UnusableImagesError: Images that cannot be decoded or converted, all
            listed with their paths.
    """
    train, test = raw.train, raw.test
    if test is None:
        train, test = split_off_test(train, params["test_fraction"], params["seed"])
    subset = params.get("subset") or {}
    train = keep_first(train, subset.get("train"))
    test = keep_first(test, subset.get("test"))
    sizes, modes, failures = zip(*(_scan(s) for s in (train, test)), strict=True)
    by_mode: dict[str, list[str]] = {}
    for part in modes:
        for mode, paths in part.items():
            by_mode.setdefault(mode, []).extend(paths)
    failures = [*failures[0], *failures[1]]
    all_sizes = np.concatenate([s[s.any(axis=1)] for s in sizes])
    if not len(all_sizes):
        raise UnusableImagesError(_unusable(failures))
    size = params.get("size")
    if isinstance(size, int):
        size = (size, size)
    shape = choose_shape(
        all_sizes,
        list(by_mode),
        n_conv=n_conv,
        max_side=params["max_side"],
        size=size,
        channels=params["channels"],
    )
    failures += _unconvertible(by_mode, _PIL_MODE[shape[2]])
    if failures:
        raise UnusableImagesError(_unusable(failures))
    logger.info(_summary(raw, train, test, all_sizes, by_mode, shape, params))
    return ImagePlan(train=train, test=test, shape=shape, resize=params["resize"])


def _unconvertible(by_mode: dict[str, list[str]], target: str) -> list[str]:
    """Paths of images whose mode Pillow cannot turn into ``target``."""
    failures = []
    for mode, paths in by_mode.items():
        try:
            to_mode(Image.new(mode, (2, 2)), target)
        except (ValueError, OSError) as error:
            failures += [
                f"{p}: mode {mode} cannot become {target} ({error})" for p in paths
            ]
    return failures


def _unusable(failures: list[str]) -> str:
    return (
        f"{len(failures)} image(s) cannot be used; fix or remove them, then run "
        f"again: {'; '.join(failures)}"
    )


def _summary(  # noqa: PLR0913, PLR0917  one log line from every part of the plan
    raw: RawImages,
    train: RawSplit,
    test: RawSplit,
    sizes: np.ndarray,
    by_mode: dict[str, list[str]],
    shape: tuple[int, int, int],
    params: dict[str, Any],
) -> str:
    areas = sizes[:, 0] * sizes[:, 1]
    small, large = sizes[areas.argmin()], sizes[areas.argmax()]
    split = (
        "test set given"
        if raw.test is not None
        else f"test {params['test_fraction']:.0%} split off, seed {params['seed']}"
    )
    classes = f"{len(raw.class_names)} classes" if raw.class_names else "unlabelled"
    colour = "grey" if set(by_mode) <= GREY_MODES else "colour"
    how = (
        "chosen"
        if params.get("size")
        else f"from the images, longer side ≤ {params['max_side']} px"
    )
    return (
        f"images: {raw.description}, {len(train)} train / {len(test)} test "
        f"({split}), {classes}; sizes {small[0]}×{small[1]} to {large[0]}×"
        f"{large[1]}, modes {', '.join(sorted(by_mode))} ({colour}) → model input "
        f"{shape[0]}×{shape[1]}×{shape[2]} ({how}; resize: {params['resize']}, "
        f"channels: {params['channels']})"
    )


def stream_split(plan: ImagePlan, name: str) -> tuple[StreamedImages, np.ndarray]:
    """The split's model input, produced a chunk at a time, and its labels.

    Returns:
        ``(N, H, W, C)`` uint8 images to be written by the catalog, and ``(N,)``
        int64 labels (−1 everywhere when unlabelled).
    """
    split = plan.split(name)
    shape = plan.shape
    labels = (
        np.full(len(split), -1, np.int64)
        if split.labels is None
        else split.labels.astype(np.int64)
    )
    arrays = split.arrays
    padded = (
        arrays is not None
        and plan.resize == "pad"
        and arrays.shape[1] <= shape[0]
        and arrays.shape[2] <= shape[1]
        and (arrays.shape[3] if arrays.ndim == 4 else 1) == shape[2]
    )

    def chunk(start: int, stop: int) -> np.ndarray:
        if padded:
            return pad_arrays(arrays[start:stop], shape)
        if arrays is not None:
            images = arrays[start:stop]
        else:
            images = [split.opener(path) for path in split.paths[start:stop]]
        return np.stack([fit_image(image, shape, plan.resize) for image in images])

    return StreamedImages((len(split), *shape), chunk, _CHUNK), labels
