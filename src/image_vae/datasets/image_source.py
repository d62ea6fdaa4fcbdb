"""The raw images, from the source that ``data_processing.source`` names.

One catalog entry, ``raw_images``, holds every source's fixed configuration (the
Fashion-MNIST files and class names); its ``load`` opens nothing. The
``data_processing`` node calls :meth:`ImageSources.open` with the parameters,
which opens only the chosen source, lazily:

- ``fashion_mnist``: the four verified IDX files (fetched once when missing);
- ``idx``: any IDX image file (and label file) the user points at;
- ``folder``: ``root/<class>/*.png|jpg|…`` (labelled by folder name) or flat
  ``root/*.png|…`` (unlabelled): only the paths are listed here, nothing is
  decoded.

Folders are walked with ``os.walk`` and files opened with Pillow rather than
through kedro-datasets' ``PartitionedDataset`` of ``pillow.ImageDataset``: on
150,000 files that took 57.6 s and 261 MB more resident memory (one dataset
object, with a deep copy of its configuration, per file) against 1.0 s and
16 MB for the walk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io.core import AbstractDataset, DatasetError
from PIL import Image

from image_vae.datasets.idx_dataset import IDXDataset
from image_vae.datasets.idx_format import RawDataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def open_image(path: str) -> Image.Image:
    """Decodes one image file completely (a truncated file fails here)."""
    with Image.open(path) as image:
        image.load()
        return image


@dataclass(frozen=True)
class RawSplit:
    """One split's images before preprocessing: decoded arrays or lazy files.

    Attributes:
        labels: ``(n,)`` int64 class indices, or ``None`` for unlabelled images.
        arrays: ``(n, h, w)`` or ``(n, h, w, c)`` uint8 (IDX sources), or None.
        paths: ``n`` file paths (folder sources), named in errors.
        opener: Decodes one path to a Pillow image.
    """

    labels: np.ndarray | None
    arrays: np.ndarray | None = None
    paths: Sequence[str] = ()
    opener: Callable[[str], Image.Image] = open_image

    def __len__(self) -> int:
        return len(self.arrays) if self.arrays is not None else len(self.paths)

    def take(self, indices: np.ndarray) -> RawSplit:
        """The images at ``indices``, in that order (arrays are not copied for a
        prefix)."""
        indices = np.asarray(indices, dtype=np.int64)
        labels = None if self.labels is None else self.labels[indices]
        if self.arrays is not None:
            contiguous = len(indices) and np.array_equal(
                indices, np.arange(indices[0], indices[0] + len(indices))
            )
            arrays = (
                self.arrays[indices[0] : indices[0] + len(indices)]
                if contiguous
                else self.arrays[indices]
            )
            return replace(self, labels=labels, arrays=arrays)
        return replace(self, labels=labels, paths=[self.paths[i] for i in indices])


@dataclass(frozen=True)
class RawImages:
    """What a source holds: a train split, a test split if it has one, classes.

    Attributes:
        train: The training images.
        test: The test images, or ``None`` to split them off the training ones.
        class_names: Name of each label, in label order; empty when unlabelled.
        description: A few words for the log line (``"folder /data/cats"``).
    """

    train: RawSplit
    test: RawSplit | None
    class_names: list[str]
    description: str


class SourceError(RawDataError):
    """A data source cannot be opened: missing folder, no images, bad layout."""


class ImageSources:
    """Every configured source; :meth:`open` reads the one the parameters name."""

    def __init__(self, fashion_mnist: dict[str, Any], suffixes: Sequence[str]):
        self._fashion_mnist = fashion_mnist
        self._suffixes = tuple(s.lower() for s in suffixes)

    def open(self, params: dict[str, Any]) -> RawImages:
        """Opens the source ``params["source"]`` (``data_processing`` parameters)."""
        source = params.get("source", "fashion_mnist")
        if source == "fashion_mnist":
            return self._open_fashion_mnist()
        if source == "idx":
            return _open_idx(params)
        return self._open_folders(params)

    def fashion_mnist_files(self) -> dict[str, IDXDataset]:
        """The Fashion-MNIST IDX files, by name (``train_images``, …)."""
        return {
            name: IDXDataset(**config)
            for name, config in self._fashion_mnist.items()
            if name != "class_names"
        }

    def known_class_names(self, params: dict[str, Any]) -> list[str] | None:
        """The class names, as far as they are known without reading images.

        Fashion-MNIST's from the catalog, an IDX pair's from the parameters, a
        folder's from its sub-folders (``[]``: none, flat and unlabelled);
        ``None`` when they cannot be told yet (a missing folder, IDX labels
        without names).
        """
        source = params.get("source", "fashion_mnist")
        if source == "fashion_mnist":
            return list(self._fashion_mnist.get("class_names", [])) or None
        if source == "idx":
            return list(params["class_names"]) if params.get("class_names") else None
        root = params.get("path")
        if not root or not Path(root).is_dir():
            return None
        return sorted(entry.name for entry in os.scandir(root) if entry.is_dir())

    def _open_fashion_mnist(self) -> RawImages:
        files = self.fashion_mnist_files()
        return RawImages(
            train=_idx_split(files["train_images"], files["train_labels"], "train"),
            test=_idx_split(files["test_images"], files["test_labels"], "test"),
            class_names=list(self._fashion_mnist["class_names"]),
            description="Fashion-MNIST",
        )

    def _open_folders(self, params: dict[str, Any]) -> RawImages:
        train, class_names = _list_folder(params["path"], "path", self._suffixes)
        test = None
        if params.get("test_path"):
            test, test_classes = _list_folder(
                params["test_path"], "test_path", self._suffixes
            )
            test = _relabel(test, test_classes, class_names, params["test_path"])
        return RawImages(
            train=train,
            test=test,
            class_names=class_names,
            description=f"folder {params['path']}",
        )


def _idx_split(images: IDXDataset, labels: IDXDataset | None, split: str) -> RawSplit:
    arrays = images.load()
    if arrays.ndim not in {3, 4}:
        raise SourceError(
            f"{images._describe()['filepath']}: holds an array of shape "
            f"{arrays.shape}; allowed: images (n, height, width) or (n, h, w, c)"
        )
    if labels is None:
        return RawSplit(labels=None, arrays=arrays)
    values = labels.load()
    if len(values) != len(arrays):
        raise SourceError(
            f"{split}_images_raw has {len(arrays)} images but {split}_labels_raw has "
            f"{len(values)} labels; the files must come from the same release"
        )
    return RawSplit(labels=values.astype(np.int64), arrays=arrays)


def _open_idx(params: dict[str, Any]) -> RawImages:
    def dataset(key: str) -> IDXDataset | None:
        path = params.get(key)
        if path is None:
            return None
        if not Path(path).is_file():
            raise SourceError(f"data_processing.{key}: got {path!r}; no such file")
        return IDXDataset(filepath=path)

    train = _idx_split(dataset("path"), dataset("labels_path"), "train")
    test = (
        _idx_split(dataset("test_path"), dataset("test_labels_path"), "test")
        if params.get("test_path")
        else None
    )
    labelled = train.labels is not None
    names = params.get("class_names")
    if labelled and not names:
        names = [str(i) for i in range(int(train.labels.max()) + 1)]
    if labelled:
        top = max(int(s.labels.max()) for s in (train, test) if s is not None)
        if top >= len(names):
            raise SourceError(
                f"data_processing.class_names: got {len(names)} names; the labels "
                f"go up to {top}; allowed: one name per label 0…{top}"
            )
    return RawImages(
        train=train,
        test=test,
        class_names=list(names) if labelled else [],
        description=f"IDX {params['path']}",
    )


def _list_folder(
    root: str | None, key: str, suffixes: Sequence[str]
) -> tuple[RawSplit, list[str]]:
    """Lists the images under ``root``; labels from the first sub-folder level."""
    if not root or not Path(root).is_dir():
        raise SourceError(
            f"data_processing.{key}: got {root!r}; allowed: a folder of images "
            f"({', '.join(suffixes)}), flat or one sub-folder per class"
        )
    ids = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        relative = os.path.relpath(folder, root)
        ids += [
            name if relative == "." else f"{relative}/{name}"
            for name in sorted(files)
            if os.path.splitext(name)[1].lower() in suffixes
        ]
    if not ids:
        raise SourceError(
            f"data_processing.{key}: no images ({', '.join(suffixes)}) under {root}"
        )
    paths = [os.path.join(root, pid) for pid in ids]
    nested = ["/" in pid for pid in ids]
    if not any(nested):
        return RawSplit(labels=None, paths=paths), []
    if not all(nested):
        loose = [p for p, n in zip(paths, nested, strict=True) if not n]
        raise SourceError(
            f"data_processing.{key}: {root} mixes images in class folders with "
            f"{len(loose)} loose image(s) ({', '.join(loose[:3])}…); allowed: every "
            "image in a class folder (labelled) or none (unlabelled)"
        )
    classes = [pid.split("/", 1)[0] for pid in ids]
    class_names = sorted(set(classes))
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index[c] for c in classes], dtype=np.int64)
    return RawSplit(labels=labels, paths=paths), class_names


def _relabel(
    test: RawSplit, test_classes: list[str], class_names: list[str], root: str
) -> RawSplit:
    """Maps the test folder's labels onto the training folder's class indices."""
    if bool(test_classes) != bool(class_names):
        raise SourceError(
            f"data_processing.test_path: {root} is "
            f"{'labelled' if test_classes else 'unlabelled'} but data_processing.path "
            f"is {'labelled' if class_names else 'unlabelled'}; allowed: both alike"
        )
    if not test_classes:
        return test
    unknown = sorted(set(test_classes) - set(class_names))
    if unknown:
        raise SourceError(
            f"data_processing.test_path: classes {unknown} are not among the "
            f"training classes {class_names}"
        )
    mapping = np.array([class_names.index(name) for name in test_classes])
    return replace(test, labels=mapping[test.labels])


class ImageSourceDataset(AbstractDataset[None, ImageSources]):
    """Catalog entry of every image source; loads an :class:`ImageSources`.

    Example catalog entry::

        raw_images:
          type: image_vae.datasets.ImageSourceDataset
          fashion_mnist:
            class_names: [T-shirt/top, Trouser, …]
            train_images: {filepath: …, sha256: …, mirrors: […]}
            train_labels: …
            test_images: …
            test_labels: …
    """

    def __init__(
        self,
        *,
        fashion_mnist: dict[str, Any],
        suffixes: Sequence[str] = IMAGE_SUFFIXES,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._fashion_mnist = fashion_mnist
        self._suffixes = tuple(suffixes)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"sources": ["fashion_mnist", "idx", "folder"]}

    def load(self) -> ImageSources:
        return ImageSources(self._fashion_mnist, self._suffixes)

    def fashion_mnist_files(self) -> dict[str, IDXDataset]:
        """The Fashion-MNIST IDX files, by name (``train_images``, …)."""
        return self.load().fashion_mnist_files()

    def save(self, data: None) -> None:
        raise DatasetError("raw_images is read-only")

    def _exists(self) -> bool:
        # Opening checks the chosen source; Fashion-MNIST fetches itself.
        return True
