"""OptionalDataset: None while nothing is saved, the newest version after."""

import numpy as np
import pytest
from kedro.io.core import DatasetError, Version

from image_vae.datasets import NumpyDataset, OptionalDataset


def test_loads_none_before_a_save_and_the_newest_version_after(tmp_path):
    path = str(tmp_path / "codes.npy")
    config = {"type": "image_vae.datasets.NumpyDataset", "filepath": path}
    optional = OptionalDataset(dataset={**config, "versioned": True})
    assert optional.load() is None
    assert not optional.exists()

    NumpyDataset(filepath=path, version=Version(None, "v1")).save(np.ones(2))
    NumpyDataset(filepath=path, version=Version(None, "v2")).save(np.full(2, 2.0))

    loaded = OptionalDataset(dataset={**config, "versioned": True}).load()
    np.testing.assert_array_equal(loaded, [2.0, 2.0])


def test_refuses_to_save(tmp_path):
    optional = OptionalDataset(
        dataset={"type": "image_vae.datasets.NumpyDataset", "filepath": str(tmp_path)}
    )
    with pytest.raises(DatasetError, match="read-only"):
        optional.save(np.ones(1))
