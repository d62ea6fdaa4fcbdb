"""KerasModelDataset: one load per run of a file, a fresh one when it changes."""

import keras
import numpy as np
from kedro.io import DataCatalog
from kedro.io.core import Version
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner

from image_vae.datasets.keras_model_dataset import KerasModelDataset


def _model(weight: float) -> keras.Model:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.set_weights([np.full((1, 1), weight), np.zeros(1)])
    return model


def _weight(model: keras.Model) -> float:
    return float(model.get_weights()[0][0, 0])


def test_loads_share_one_model_until_a_new_version_or_a_release(tmp_path):
    path = str(tmp_path / "model.keras")
    KerasModelDataset(filepath=path, version=Version(None, "v1")).save(_model(1.0))
    dataset = KerasModelDataset(filepath=path, version=Version(None, None))

    first = dataset.load()
    assert dataset.load() is first
    assert _weight(first) == 1.0

    KerasModelDataset(filepath=path, version=Version(None, "v2")).save(_model(2.0))
    dataset.release()  # as the runner does; it also forgets the newest version
    newer = dataset.load()
    assert newer is not first
    assert _weight(newer) == 2.0
    dataset.release()
    assert dataset.load() is not newer  # released: memory given back


def test_an_unversioned_file_rewritten_in_place_is_loaded_anew(tmp_path):
    path = str(tmp_path / "model.keras")
    dataset = KerasModelDataset(filepath=path)
    dataset.save(_model(1.0))
    assert _weight(dataset.load()) == 1.0

    KerasModelDataset(filepath=path).save(_model(3.0))

    assert _weight(dataset.load()) == 3.0


def test_the_nodes_of_one_run_share_the_model_loaded_first(tmp_path):
    path = str(tmp_path / "model.keras")
    KerasModelDataset(filepath=path).save(_model(1.0))
    seen = []

    def use(model: keras.Model) -> float:
        seen.append(id(model))
        return _weight(model)

    catalog = DataCatalog({"model": KerasModelDataset(filepath=path)})
    pipeline = Pipeline(
        [node(use, "model", "a", name="first"), node(use, "model", "b", name="second")]
    )

    outputs = SequentialRunner().run(pipeline, catalog)

    assert len(seen) == 2 and seen[0] == seen[1]
    assert {name: catalog.load(name) for name in outputs} == {"a": 1.0, "b": 1.0}
