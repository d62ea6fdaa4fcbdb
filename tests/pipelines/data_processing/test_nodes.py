import numpy as np
import pytest

from image_vae.datasets import RawDataError
from image_vae.pipelines.data_processing.nodes import prepare_split


def _raw(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0] = 255
    images[1] = 0
    return images, np.arange(n, dtype=np.uint8)


def test_prepare_split_normalises_pads_and_adds_channel():
    images_raw, labels_raw = _raw()
    images, labels = prepare_split(images_raw, labels_raw, 2, None, split="train")

    assert images.shape == (5, 32, 32, 1) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert not images[:, border].any(), "the 2-pixel border is zero"
    np.testing.assert_allclose(images[:, 2:30, 2:30, 0], images_raw / 255.0, rtol=1e-6)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 3, 4]


def test_subset_keeps_the_first_samples():
    images_raw, labels_raw = _raw()
    images, labels = prepare_split(images_raw, labels_raw, 0, 3, split="test")
    assert images.shape == (3, 28, 28, 1)
    assert labels.tolist() == [0, 1, 2]


def test_image_label_count_mismatch_names_both_entries():
    images_raw, labels_raw = _raw()
    with pytest.raises(
        RawDataError,
        match=("train_images_raw has 5 images but train_labels_raw has 4 labels"),
    ):
        prepare_split(images_raw, labels_raw[:4], 2, None, split="train")


def test_subset_larger_than_data_is_a_clear_error():
    images_raw, labels_raw = _raw()
    with pytest.raises(RawDataError, match=r"data_processing.subset.test: got 9"):
        prepare_split(images_raw, labels_raw, 2, 9, split="test")
