"""Kedro dataset for NumPy arrays stored as ``.npy`` (never pickled)."""

from __future__ import annotations

from copy import deepcopy
from pathlib import PurePosixPath
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


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """Saves and loads one array as ``.npy`` with ``allow_pickle=False``."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates the dataset.

        Args:
            filepath: Path or ``protocol://`` URL of the ``.npy`` file.
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
        with self._fs.open(path, "rb") as handle:
            return np.load(handle, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with self._fs.open(path, "wb") as handle:
            np.save(handle, np.asarray(data), allow_pickle=False)
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)
