"""Data processing on real image files and IDX-like arrays, in-process."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from image_folders import flat_folder, labelled_folder
from image_vae.datasets.image_source import (
    ImageSources,
    RawImages,
    RawSplit,
    SourceError,
)
from image_vae.datasets.numpy_dataset import NumpyDataset
from image_vae.parameters import DataProcessingParams
from image_vae.pipelines.data_processing.image_plan import (
    UnusableImagesError,
    make_plan,
    split_off_test,
)
from image_vae.pipelines.data_processing.nodes import plan_model_input, prepare_split
from image_vae.pipelines.morph.nodes import UnknownClassError

FILTERS = [8, 16, 32]  # three stride-2 convolutions: sides divisible by 8


def _params(**overrides) -> dict:
    return {**DataProcessingParams().model_dump(), **overrides}


def _sources() -> ImageSources:
    return ImageSources(fashion_mnist={}, suffixes=(".png", ".jpg", ".bmp"))


def _arrays(n: int = 5) -> RawImages:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0], images[1] = 255, 0
    split = RawSplit(labels=np.arange(n) % 2, arrays=images)
    return RawImages(split, split, ["a", "b"], "arrays")


def _written(tmp_path: Path, plan, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = prepare_split(plan, split)
    dataset = NumpyDataset(filepath=str(tmp_path / f"{split}.npy"), mmap=True)
    dataset.save(images)
    return dataset.load(), labels


def test_idx_arrays_are_padded_28_to_32_as_uint8(tmp_path):
    raw = _arrays()
    plan = make_plan(raw, _params(), n_conv=3)
    images, labels = _written(tmp_path, plan, "train")

    assert isinstance(images, np.memmap) and images.dtype == np.uint8
    assert images.shape == (5, 32, 32, 1)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert not images[:, border].any(), "the 2-pixel border is zero"
    np.testing.assert_array_equal(images[:, 2:30, 2:30, 0], raw.train.arrays)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 0, 1, 0]


def test_subset_keeps_at_most_the_first_samples():
    plan = make_plan(_arrays(), _params(subset={"train": 3, "test": 9}), 3)
    assert len(plan.train) == 3 and len(plan.test) == 5
    np.testing.assert_array_equal(plan.train.arrays, _arrays().train.arrays[:3])


def test_labelled_folder_sizes_channels_and_class_names(tmp_path, caplog):
    root = labelled_folder(tmp_path / "shapes", per_class=10)
    caplog.set_level(logging.INFO)
    plan, class_names = plan_model_input(
        _sources(), _params(source="folder", path=str(root)), FILTERS, None
    )
    assert class_names == ["bar", "disc", "square"]
    # Largest height 40 and width 40 (sizes 40×30, 36×36, 24×40 as w×h): 40×40.
    assert plan.shape == (40, 40, 3)
    assert len(plan.train) + len(plan.test) == 30
    assert len(plan.test) == 6  # 20 % of each class of 10, stratified
    assert sorted(np.bincount(plan.test.labels)) == [2, 2, 2]
    (line,) = [
        r.getMessage() for r in caplog.records if "model input" in r.getMessage()
    ]
    assert "24 train / 6 test" in line and "40×40×3" in line and "3 classes" in line

    images, labels = _written(tmp_path, plan, "train")
    assert images.shape == (24, 40, 40, 3) and images.dtype == np.uint8
    assert set(labels) == {0, 1, 2}
    # A 40×30 (w×h) image keeps its aspect: 5 black rows above and below.
    source = Image.open(plan.train.paths[0])
    if source.size == (40, 30):
        assert not images[0, :5].any() and images[0, 5:35].any()


def test_large_photos_are_scaled_down_to_max_side_keeping_aspect(tmp_path):
    root = labelled_folder(tmp_path / "big", per_class=4, sizes=((200, 150),))
    plan, _ = plan_model_input(
        _sources(), _params(source="folder", path=str(root), max_side=32), FILTERS, None
    )
    assert plan.shape == (24, 32, 3)  # 150×200 (h×w) → 24×32
    images, _ = _written(tmp_path, plan, "train")
    assert images.shape[1:] == (24, 32, 3) and images[:, 12, 16].any()


@pytest.mark.parametrize(
    ("resize", "expected_black_rows"),
    [("pad", True), ("crop", False), ("stretch", False)],
)
def test_resize_modes(tmp_path, resize, expected_black_rows):
    root = labelled_folder(tmp_path / "wide", per_class=3, sizes=((32, 16),))
    params = _params(source="folder", path=str(root), size=32, resize=resize)
    plan, _ = plan_model_input(_sources(), params, FILTERS, None)
    images, _ = _written(tmp_path, plan, "train")
    assert images.shape[1:] == (32, 32, 3)
    black_rows = not images[:, :4].any()
    assert black_rows == expected_black_rows


def test_grey_folder_is_unlabelled_and_one_channel(tmp_path):
    root = flat_folder(tmp_path / "grey", count=20, size=(20, 20), mode="L")
    plan, class_names = plan_model_input(
        _sources(), _params(source="folder", path=str(root)), FILTERS, None
    )
    assert class_names == [] and plan.shape == (24, 24, 1)
    _, labels = prepare_split(plan, "test")
    assert len(labels) == 4 and (labels == -1).all()


def test_channels_on_request(tmp_path):
    root = flat_folder(tmp_path / "grey", count=10, mode="L")
    plan, _ = plan_model_input(
        _sources(),
        _params(source="folder", path=str(root), channels="rgb"),
        FILTERS,
        None,
    )
    assert plan.shape[2] == 3
    images, _ = _written(tmp_path, plan, "train")
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_separate_test_folder_is_labelled_by_the_training_classes(tmp_path):
    train = labelled_folder(tmp_path / "train", per_class=4)
    test = labelled_folder(tmp_path / "test", per_class=2, classes=("square",))
    params = _params(source="folder", path=str(train), test_path=str(test))
    plan, names = plan_model_input(_sources(), params, FILTERS, None)
    assert len(plan.train) == 12 and len(plan.test) == 2
    assert plan.test.labels.tolist() == [names.index("square")] * 2


def test_split_off_test_is_seeded():
    split = RawSplit(
        labels=np.repeat([0, 1], 10), arrays=np.zeros((20, 8, 8), np.uint8)
    )
    a_train, a_test = split_off_test(split, 0.3, seed=1)
    _, b_test = split_off_test(split, 0.3, seed=1)
    assert np.array_equal(a_test.labels, b_test.labels) and len(a_test) == 6
    assert len(a_train) == 14


# Refusals: one message each, naming the culprit and what is allowed -----------


def test_every_undecodable_image_is_named_in_one_message(tmp_path):
    root = labelled_folder(tmp_path / "bad", per_class=4)
    (root / "disc" / "broken.png").write_bytes(b"not an image at all")
    good = (root / "square" / "000.png").read_bytes()
    (root / "square" / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(UnusableImagesError) as error:
        plan_model_input(
            _sources(), _params(source="folder", path=str(root)), FILTERS, None
        )
    message = str(error.value)
    assert message.startswith("2 image(s) cannot be used")
    assert str(root / "disc" / "broken.png") in message
    assert str(root / "square" / "truncated.png") in message
    assert "\n" not in message


def test_unconvertible_mode_is_named_by_path():
    paths = ["/data/a.png", "/data/b.png"]
    modes = dict(zip(paths, ("LAB", "L"), strict=True))
    split = RawSplit(
        labels=None, paths=paths, opener=lambda path: Image.new(modes[path], (8, 8))
    )
    raw = RawImages(split, split, [], "test")
    with pytest.raises(
        UnusableImagesError,
        match=r"^2 image\(s\) cannot .*/data/a.png: mode LAB cannot become L",
    ):
        make_plan(raw, _params(channels="grey"), n_conv=3)


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(
        SourceError, match=r"data_processing.path: got '.*nowhere'; allowed: a folder"
    ):
        _sources().open(_params(source="folder", path=str(tmp_path / "nowhere")))


def test_folder_without_images_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(SourceError, match=r"data_processing.path: no images \(.png"):
        _sources().open(_params(source="folder", path=str(tmp_path / "empty")))


def test_loose_images_beside_class_folders_are_refused(tmp_path):
    root = labelled_folder(tmp_path / "mixed", per_class=2)
    flat_folder(root, count=1)
    with pytest.raises(
        SourceError, match=r"mixes images in class folders with 1 loose"
    ):
        _sources().open(_params(source="folder", path=str(root)))


def test_unknown_target_class_is_refused_before_any_image_is_read(tmp_path):
    root = labelled_folder(tmp_path / "shapes", per_class=2)
    with pytest.raises(
        UnknownClassError, match=r"morph.target_class: got 'Trouser'; .*0='bar'"
    ):
        plan_model_input(
            _sources(), _params(source="folder", path=str(root)), FILTERS, "Trouser"
        )
