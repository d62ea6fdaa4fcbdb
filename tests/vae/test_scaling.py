from pathlib import Path

import numpy as np
import pytest

from image_vae.datasets import NumpyDataset
from image_vae.vae.classifier import _labelled_batches
from image_vae.vae.preprocessing import StreamedImages
from image_vae.vae.scaling import RowReader, unit_batch
from image_vae.vae.training import make_dataset


def test_unit_batch_scales_uint8_and_keeps_floats():
    pixels = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(unit_batch(pixels), [[0, 128 / 255, 1]], rtol=1e-7)
    assert unit_batch(pixels).dtype == np.float32
    codes = np.array([[-1.5, 2.0]], dtype=np.float64)
    np.testing.assert_array_equal(unit_batch(codes), codes.astype(np.float32))


@pytest.fixture
def stored(tmp_path) -> np.ndarray:
    """300 uint8 16×16×3 images written chunk by chunk, loaded memory-mapped."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(300, 16, 16, 3), dtype=np.uint8)
    stream = StreamedImages(images.shape, lambda a, b: images[a:b], chunk_size=64)
    dataset = NumpyDataset(filepath=str(tmp_path / "x.npy"), mmap=True)
    dataset.save(stream)
    loaded = dataset.load()
    assert isinstance(loaded, np.memmap) and not loaded.flags.writeable
    np.testing.assert_array_equal(loaded, images)
    return loaded


def test_uint8_training_batches_equal_the_float_ones(stored):
    floats = (stored / 255.0).astype(np.float32)
    from_uint8 = list(make_dataset(stored, 64, shuffle=True, seed=3))
    from_float = list(make_dataset(floats, 64, shuffle=True, seed=3))
    assert [b.shape[0] for b in from_uint8] == [64, 64, 64, 64, 44]
    for a, b in zip(from_uint8, from_float, strict=True):
        assert a.dtype == b.dtype
        # Bitwise: every uint8 / 255 in float32 equals the float64 quotient
        # rounded to float32, what the model input held before it was uint8.
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_row_reader_on_a_real_mapping_reads_the_same_rows(stored):
    reader = RowReader(stored)
    assert reader._file is not None  # read with pread, not through the mapping
    rows = np.array([5, 1, 299])
    np.testing.assert_array_equal(reader(rows), stored[rows])
    np.testing.assert_array_equal(reader(rows), stored[rows])


def _mapped_kb(path) -> int:
    """Resident kB of this process's mapping of ``path`` (Linux)."""
    smaps = open("/proc/self/smaps").read()  # noqa: SIM115
    start = smaps.index(str(path))
    return int(smaps[start:].split("\nRss:", 1)[1].split()[0])


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux only")
def test_random_batches_keep_the_mapped_pages_bounded(tmp_path):
    images = np.random.default_rng(0).integers(
        0, 256, size=(12000, 32, 32, 3), dtype=np.uint8
    )  # 37 MB, in the page cache once written
    path = tmp_path / "big.npy"
    np.save(path, images)
    mapped = np.load(path, mmap_mode="r")
    reader = RowReader(mapped)
    rng = np.random.default_rng(1)
    peak = 0
    for step in range(100):  # 15 MB read at random
        rows = rng.integers(0, len(mapped), 50)
        np.testing.assert_array_equal(reader(rows), images[rows])
        if step % 10 == 9:  # reading smaps is slow with TensorFlow loaded
            peak = max(peak, _mapped_kb(path))
    assert peak == 0  # nothing of the file is mapped into the process


def test_input_pipelines_do_not_autotune(stored):
    # tf.data's autotuning thread made deleting an iterator (after every epoch
    # and validation pass) wait for seconds: both pipelines run without it.
    labels = np.arange(len(stored)) % 3
    pipelines = {
        "vae": make_dataset(stored, 64, shuffle=True, seed=0),
        "classifier": _labelled_batches(stored, labels, 64, seed=0),
    }
    for name, dataset in pipelines.items():
        assert dataset.options().autotune.enabled is False, name
    images, batch_labels = next(iter(pipelines["classifier"]))
    assert images.shape == (64, 16, 16, 3)
    assert batch_labels.shape == (64,)
