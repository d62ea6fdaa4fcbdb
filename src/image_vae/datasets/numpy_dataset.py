"""Kedro dataset for NumPy arrays stored as ``.npy`` (never pickled)."""

from __future__ import annotations

import os
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from image_vae.datasets.array_checks import (
    ArrayFileError,
    check_array,
    validate_expectations,
)


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """Saves and loads one array as ``.npy`` with ``allow_pickle=False``.

    Saves write beside the file and rename it into place, so an interrupted save
    never leaves a half-written array where the next run reads it. Loads check the
    array against ``expected`` (see ``image_vae.datasets.array_checks``).

    Saves an array, or anything with ``shape``, ``dtype`` and ``chunks()`` (such as
    :class:`~image_vae.vae.preprocessing.StreamedImages`) one chunk at a time, so
    a set larger than memory is written with bounded memory. With ``mmap: true``
    a local file loads memory-mapped (read-only): pages are read when used.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        expected: dict[str, Any] | None = None,
        mmap: bool = False,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates the dataset.

        Args:
            filepath: Path or ``protocol://`` URL of the ``.npy`` file.
            expected: What a loaded array must be: ``dtype``, ``ndim``, ``shape``,
                ``min``, ``max``, ``finite`` (all optional).
            mmap: Load a local file memory-mapped, read-only.
            version: Kedro version, when versioned.
            credentials: Passed to the fsspec filesystem.
            fs_args: Passed to the fsspec filesystem.
            metadata: Ignored by Kedro; read by kedro-viz (``layer``).
        """
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        fs_args = deepcopy(fs_args) or {}
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._fs = fsspec.filesystem(
            protocol, **(deepcopy(credentials) or {}), **fs_args
        )
        self.metadata = metadata
        self._expected = validate_expectations(expected)
        self._mmap = mmap
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}

    def load(self) -> np.ndarray:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        if self._fs.isdir(path):
            raise ArrayFileError(f"{path}: a directory where the .npy file should be")
        try:
            if self._mmap and self._protocol == "file":
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            else:
                with self._fs.open(path, "rb") as handle:
                    array = np.load(handle, allow_pickle=False)
        except (ValueError, EOFError, OSError) as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise ArrayFileError(
                f"{path}: not a readable .npy file, truncated or damaged "
                f"({str(error).splitlines()[0]})"
            ) from error
        check_array(array, self._expected, path)
        return array

    def save(self, data: np.ndarray) -> None:
        path = get_filepath_str(self._get_save_path(), self._protocol)
        if self._protocol != "file":  # object stores show a put all at once
            with self._fs.open(path, "wb") as handle:
                np.save(handle, np.asarray(data), allow_pickle=False)
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("wb") as handle:
                if hasattr(data, "chunks") and not isinstance(data, np.ndarray):
                    _write_chunks(handle, data)
                else:
                    np.save(handle, np.asarray(data), allow_pickle=False)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)


def _write_chunks(handle: Any, data: Any) -> None:
    """Writes a ``.npy`` header, then each C-ordered chunk as it is produced.

    Plain writes, not a writable memory map: written pages never count towards
    the process's resident memory.
    """
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(data.dtype)),
        "fortran_order": False,
        "shape": tuple(data.shape),
    }
    np.lib.format.write_array_header_1_0(handle, header)
    written = 0
    for chunk in data.chunks():
        handle.write(np.ascontiguousarray(chunk, dtype=data.dtype).tobytes())
        written += len(chunk)
    if written != data.shape[0]:
        raise ValueError(
            f"Expected {data.shape[0]} rows from the chunks. Received: {written}"
        )
