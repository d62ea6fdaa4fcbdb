"""Obtaining raw files from local copies or download mirrors: verified, atomic.

Nothing here imports Kedro.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from image_vae.datasets.idx_format import RawDataError, decompress, parse_idx

logger = logging.getLogger(__name__)


def sha256_of_content(raw: bytes) -> str:
    """SHA-256 hex digest of the decompressed content (gzip level does not matter)."""
    return hashlib.sha256(decompress(raw)).hexdigest()


def verify_sha256(raw: bytes, expected: str | None, source: str) -> None:
    """Raises ``RawDataError`` when ``expected`` is set and the content differs."""
    if expected is None:
        return
    actual = sha256_of_content(raw)
    if actual != expected.lower():
        raise RawDataError(
            f"{source}: checksum mismatch: SHA-256 of the decompressed content is "
            f"{actual}, expected {expected}"
        )


def _read_source(source: str, timeout: float) -> bytes:
    if "://" in source and not source.startswith("file://"):
        logger.info("Downloading %s", source)
        with urllib.request.urlopen(source, timeout=timeout) as response:
            return response.read()
    return Path(source.removeprefix("file://")).read_bytes()


def obtain_verified(
    filename: str,
    mirrors: Sequence[str],
    sha256: str | None,
    timeout: float = 60.0,
) -> bytes:
    """Fetches ``filename`` from the first mirror that has a verified copy.

    Args:
        filename: The file name appended to each mirror (a directory or URL prefix).
        mirrors: Local directories or URL prefixes, tried in order.
        sha256: Pinned digest of the decompressed content, or ``None``.
        timeout: Seconds allowed for each download.

    Returns:
        The file's bytes, exactly as the mirror served them.

    Raises:
        RawDataError: No mirror served a verified copy; the message lists every try.
    """
    tried = []
    for mirror in mirrors:
        source = f"{mirror.rstrip('/')}/{filename}"
        try:
            raw = _read_source(source, timeout)
            verify_sha256(raw, sha256, source)
            parse_idx(decompress(raw), source)
        except (OSError, RawDataError, ValueError) as error:
            tried.append(f"{source} ({error.__class__.__name__}: {error})")
            continue
        logger.info("Obtained %s from %s", filename, source)
        return raw
    raise RawDataError(
        f"{filename}: missing and unobtainable; tried: "
        + ("; ".join(tried) if tried else "no mirrors configured")
    )


def write_atomically(path: Path, raw: bytes) -> None:
    """Writes ``raw`` to a temp file beside ``path`` and renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(raw)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
