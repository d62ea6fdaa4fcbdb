"""IDX reading, fetching and every raw-data error, on small synthetic files."""

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from image_vae.datasets import IDXDataset, NumpyDataset, RawDataError
from image_vae.datasets.idx_format import encode_idx, parse_idx
from image_vae.errors import find_user_error

IMAGES = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
LABELS = np.array([0, 9, 1], dtype=np.uint8)


def _load_error(dataset: IDXDataset) -> str:
    """The one-line RawDataError message behind Kedro's DatasetError wrapper."""
    with pytest.raises(Exception) as info:
        dataset.load()
    error = find_user_error(info.value)
    assert isinstance(error, RawDataError), info.value
    assert "\n" not in str(error)
    return str(error)


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(encode_idx(array)).hexdigest()


def _write(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    raw = encode_idx(array)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.mark.parametrize("gz", [True, False])
def test_loads_images_and_labels_gzipped_or_not(tmp_path, gz):
    suffix = ".gz" if gz else ""
    images = _write(tmp_path / f"img-idx3-ubyte{suffix}", IMAGES, gz)
    labels = _write(tmp_path / f"lbl-idx1-ubyte{suffix}", LABELS, gz)

    np.testing.assert_array_equal(IDXDataset(filepath=str(images)).load(), IMAGES)
    np.testing.assert_array_equal(IDXDataset(filepath=str(labels)).load(), LABELS)


def test_save_then_load_round_trips(tmp_path):
    dataset = IDXDataset(filepath=str(tmp_path / "sub" / "x-idx3-ubyte.gz"))
    dataset.save(IMAGES)
    np.testing.assert_array_equal(dataset.load(), IMAGES)
    assert dataset.header_shape() == (3, 4, 4)


def test_wrong_magic_number_names_file_and_allowed_values(tmp_path):
    raw = bytearray(encode_idx(IMAGES))
    raw[2:4] = b"\x09\x03"
    path = tmp_path / "bad-magic"
    path.write_bytes(bytes(raw))
    message = _load_error(IDXDataset(filepath=str(path)))
    assert re.search(r"bad-magic: wrong magic number \d+", message)
    assert "2051 (images)" in message and "2049 (labels)" in message


def test_truncated_payload_reports_header_and_actual_size(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(encode_idx(IMAGES)[:-5]))
    message = _load_error(IDXDataset(filepath=str(path)))
    assert (
        "short.gz: truncated payload: header says 3×4×4 = 48 bytes, file holds 43"
        in message
    )


def test_truncated_gzip_stream_is_reported_with_path(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(encode_idx(IMAGES))[:-10])
    assert "cut.gz: corrupt gzip stream" in _load_error(IDXDataset(filepath=str(path)))


def test_checksum_mismatch_is_reported(tmp_path):
    path = _write(tmp_path / "x.gz", IMAGES)
    message = _load_error(IDXDataset(filepath=str(path), sha256="00ff" * 16))
    assert re.search(r"x.gz: checksum mismatch.* expected (00ff)+$", message)


def test_missing_and_unobtainable_lists_every_source_tried(tmp_path):
    dataset = IDXDataset(
        filepath=str(tmp_path / "raw" / "x.gz"),
        mirrors=[str(tmp_path / "nowhere"), "file:///also/nowhere"],
    )
    message = _load_error(dataset)
    assert "x.gz: missing and unobtainable; tried:" in message
    assert str(tmp_path / "nowhere" / "x.gz") in message
    assert "/also/nowhere/x.gz" in message


def test_missing_file_is_obtained_from_the_first_mirror_with_a_verified_copy(tmp_path):
    corrupt, good = tmp_path / "corrupt", tmp_path / "good"
    corrupt.mkdir()
    good.mkdir()
    (corrupt / "x.gz").write_bytes(gzip.compress(encode_idx(IMAGES)[:-1]))
    # Different gzip bytes, same content: the pin is on decompressed content.
    (good / "x.gz").write_bytes(gzip.compress(encode_idx(IMAGES), compresslevel=1))
    target = tmp_path / "raw" / "x.gz"
    dataset = IDXDataset(
        filepath=str(target),
        mirrors=[str(corrupt), str(good)],
        sha256=_digest(IMAGES),
    )

    np.testing.assert_array_equal(dataset.load(), IMAGES)
    assert target.read_bytes() == (good / "x.gz").read_bytes()
    assert not list(target.parent.glob("*.part")), "no temp file left behind"


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    import os

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    dataset = IDXDataset(filepath=str(tmp_path / "raw" / "x.gz"))
    with pytest.raises(KeyboardInterrupt):
        dataset.save(IMAGES)
    assert list((tmp_path / "raw").iterdir()) == []


def test_parse_rejects_trailing_bytes():
    with pytest.raises(RawDataError, match="trailing bytes"):
        parse_idx(encode_idx(LABELS) + b"\x00", "lbl")


def test_numpy_dataset_round_trips_without_pickle(tmp_path):
    dataset = NumpyDataset(filepath=str(tmp_path / "a.npy"))
    array = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    dataset.save(array)
    loaded = dataset.load()
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == np.float32
    with pytest.raises(Exception, match="allow_pickle=False"):
        dataset.save(np.array([{"a": 1}], dtype=object))


def test_local_copy_is_used_without_touching_the_network(tmp_path, monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    system = tmp_path / "usr-share"
    system.mkdir()
    _write(system / "x.gz", LABELS)
    dataset = IDXDataset(
        filepath=str(tmp_path / "raw" / "x.gz"),
        mirrors=[str(system), "http://fashion-mnist.example/"],
        sha256=_digest(LABELS),
    )
    np.testing.assert_array_equal(dataset.load(), LABELS)


def test_download_mirror_serves_when_the_local_copy_is_missing(tmp_path, monkeypatch):
    import io
    import urllib.request

    served = gzip.compress(encode_idx(LABELS))
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(served)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    dataset = IDXDataset(
        filepath=str(tmp_path / "raw" / "x.gz"),
        mirrors=[str(tmp_path / "absent"), "http://fashion-mnist.example/"],
        sha256=_digest(LABELS),
    )
    np.testing.assert_array_equal(dataset.load(), LABELS)
    assert requested == ["http://fashion-mnist.example/x.gz"]


def test_catalog_pins_match_the_debian_copy_when_present():
    """The pinned digests are those of the real files (checked where installed)."""
    import yaml

    from conftest import PROJECT_ROOT

    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    sources = catalog["raw_images"]["fashion_mnist"]
    entries = {k: v for k, v in sources.items() if k != "class_names"}
    assert len(entries) == 4
    for entry in entries.values():
        name = Path(entry["filepath"]).name
        local = Path(entry["mirrors"][0]) / name
        assert entry["mirrors"][0] == "/usr/share/datasets/fashion-mnist"
        assert len(entry["sha256"]) == 64
        if local.exists():
            assert (
                hashlib.sha256(gzip.decompress(local.read_bytes())).hexdigest()
                == (entry["sha256"])
            )
