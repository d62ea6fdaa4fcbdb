"""The IDX file format (MNIST, Fashion-MNIST): parsing and encoding.

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype> <ndim>``, ``ndim`` big-endian
uint32 dimension sizes, then the payload. Fashion-MNIST uses unsigned bytes:
magic 2051 (``0x0803``) for images ``(N, 28, 28)`` and 2049 (``0x0801``) for labels
``(N,)``. Files may be gzipped. Nothing here imports Kedro.
"""

from __future__ import annotations

import gzip

import numpy as np

from image_vae.errors import UserFacingError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
KNOWN_MAGICS = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
_GZIP_SIGNATURE = b"\x1f\x8b"


class RawDataError(UserFacingError):
    """A raw data file is missing, unobtainable, malformed or not the pinned one."""


def decompress(raw: bytes) -> bytes:
    """Returns the IDX bytes, gunzipping them when they carry the gzip signature."""
    if raw[:2] == _GZIP_SIGNATURE:
        return gzip.decompress(raw)
    return raw


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parses decompressed IDX bytes into a ``uint8`` array.

    Args:
        content: The decompressed file content.
        source: Name of the file, used in error messages.

    Returns:
        ``(N, rows, cols)`` for images (magic 2051), ``(N,)`` for labels (magic 2049).

    Raises:
        RawDataError: Unknown magic number or a payload shorter or longer than the
            header announces.
    """
    if len(content) < 8:
        raise RawDataError(
            f"{source}: file too short for an IDX header ({len(content)} bytes)"
        )
    magic = int.from_bytes(content[:4], "big")
    if magic not in KNOWN_MAGICS:
        allowed = ", ".join(f"{m} ({kind})" for m, kind in KNOWN_MAGICS.items())
        raise RawDataError(
            f"{source}: wrong magic number {magic}, expected one of {allowed}"
        )
    ndim = content[3]
    header_len = 4 + 4 * ndim
    if len(content) < header_len:
        raise RawDataError(f"{source}: truncated header ({len(content)} bytes)")
    shape = tuple(
        int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    expected = int(np.prod(shape))
    payload = len(content) - header_len
    if payload != expected:
        dims = "×".join(str(s) for s in shape)
        problem = "truncated payload" if payload < expected else "trailing bytes"
        raise RawDataError(
            f"{source}: {problem}: header says {dims} = {expected} bytes, "
            f"file holds {payload}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_len).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encodes a ``uint8`` array of 1 (labels) or 3 (images) dimensions as IDX bytes."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError(
            "IDX encoding takes uint8 arrays of 1 (labels) or 3 (images) dimensions, "
            f"received dtype={array.dtype}, ndim={array.ndim}"
        )
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    return header + array.tobytes()
