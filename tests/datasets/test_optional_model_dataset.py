"""OptionalModelDataset: None while no model is saved, the newest one after."""

import keras
import numpy as np
import pytest
from kedro.io.core import DatasetError, Version
from kedro_datasets.tensorflow import TensorFlowModelDataset

from image_vae.datasets import OptionalModelDataset


def _model(value: float) -> keras.Model:
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, name="d")(inputs))
    model.get_layer("d").set_weights([np.full((2, 1), value), np.zeros(1)])
    return model


def test_loads_none_before_a_save_and_the_newest_version_after(tmp_path):
    path = str(tmp_path / "judge.keras")
    optional = OptionalModelDataset(filepath=path, version=Version(None, None))
    assert optional.load() is None

    TensorFlowModelDataset(filepath=path, version=Version(None, "v1")).save(_model(1))
    TensorFlowModelDataset(filepath=path, version=Version(None, "v2")).save(_model(2))

    loaded = OptionalModelDataset(filepath=path, version=Version(None, None)).load()
    assert loaded.get_layer("d").get_weights()[0][0, 0] == 2.0


def test_refuses_to_save(tmp_path):
    with pytest.raises(DatasetError, match="read-only"):
        OptionalModelDataset(filepath=str(tmp_path / "m.keras")).save(_model(1))
