"""Kedro dataset for IDX files that fetches a missing file from pinned mirrors."""

from __future__ import annotations

import gzip
import zlib
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import AbstractDataset, get_filepath_str, get_protocol_and_path

from image_vae.datasets.idx_format import (
    RawDataError,
    decompress,
    encode_idx,
    parse_idx,
)
from image_vae.datasets.verified_download import (
    obtain_verified,
    verify_sha256,
    write_atomically,
)


class IDXDataset(AbstractDataset[np.ndarray, np.ndarray]):
    """Loads an IDX file (gzipped or not) as a ``uint8`` NumPy array.

    When the file is missing it is obtained once from ``mirrors`` (directories or URL
    prefixes, tried in order), verified against ``sha256`` (digest of the
    decompressed content) and written atomically, so a half download never loads.
    The file is verified again on every load, so a corrupted copy is reported with
    its path instead of feeding garbage to training.

    Example catalog entry::

        train_images_raw:
          type: image_vae.datasets.IDXDataset
          filepath: data/01_raw/fashion-mnist/train-images-idx3-ubyte.gz
          sha256: c59f46…
          mirrors: [/usr/share/datasets/fashion-mnist, https://…]
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        mirrors: list[str] | None = None,
        sha256: str | None = None,
        download_timeout: float = 60.0,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates the dataset.

        Args:
            filepath: Path or ``protocol://`` URL of the IDX file (``.gz`` or plain).
            mirrors: Where to obtain the file when it is missing, tried in order.
            sha256: SHA-256 of the decompressed content; ``None`` skips verification.
            download_timeout: Seconds allowed for each download.
            credentials: Passed to the fsspec filesystem.
            fs_args: Passed to the fsspec filesystem.
            metadata: Ignored by Kedro; read by kedro-viz (``layer``).
        """
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(
            protocol, **(deepcopy(credentials) or {}), **(deepcopy(fs_args) or {})
        )
        self._mirrors = list(mirrors or [])
        self._sha256 = sha256
        self._timeout = download_timeout
        self.metadata = metadata

    @property
    def _path(self) -> str:
        return get_filepath_str(self._filepath, self._protocol)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._path,
            "protocol": self._protocol,
            "mirrors": self._mirrors,
            "sha256": self._sha256,
        }

    def _exists(self) -> bool:
        return self._fs.exists(self._path)

    def header_shape(self) -> tuple[int, ...] | None:
        """The array shape announced by the file's header, or ``None`` if absent.

        Reads only the first bytes, so checks can run before any data is loaded.
        """
        if not self._exists() or self._fs.isdir(self._path):
            return None  # loading it reports what is wrong, naming the dataset
        with self._fs.open(self._path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            stream = gzip.GzipFile(fileobj=handle) if head == b"\x1f\x8b" else handle
            try:
                header = stream.read(16)
            except (OSError, EOFError, zlib.error):
                return None
        if len(header) < 4 or header[3] > 3 or len(header) < 4 + 4 * header[3]:
            return None
        return tuple(
            int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big")
            for i in range(header[3])
        )

    def ensure_present(self) -> None:
        """Obtains, verifies and atomically writes the file if it is missing."""
        if self._exists():
            return
        raw = obtain_verified(
            self._filepath.name, self._mirrors, self._sha256, self._timeout
        )
        self._write(raw)

    def _write(self, raw: bytes) -> None:
        if self._protocol == "file":
            write_atomically(Path(self._path), raw)
        else:  # object stores make a single put visible all at once
            with self._fs.open(self._path, "wb") as handle:
                handle.write(raw)

    def load(self) -> np.ndarray:
        if not self._exists() and self._mirrors:
            self.ensure_present()
        if self._fs.isdir(self._path):
            raise RawDataError(f"{self._path}: a directory where the file should be")
        try:
            with self._fs.open(self._path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            raise RawDataError(
                f"{self._path}: missing and unobtainable; no mirrors configured"
            ) from None
        try:
            content = decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            # Truncated (EOFError) or bit-rotted (bad CRC, invalid deflate data).
            raise RawDataError(
                f"{self._path}: corrupt gzip stream, truncated or damaged ({error})"
            ) from None
        verify_sha256(content, self._sha256, self._path)
        return parse_idx(content, self._path)

    def save(self, data: np.ndarray) -> None:
        raw = encode_idx(data)
        if self._filepath.suffix == ".gz":
            raw = gzip.compress(raw)
        self._write(raw)
