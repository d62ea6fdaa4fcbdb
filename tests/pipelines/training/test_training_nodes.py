"""The training node hands every training parameter to fit_vae."""

import numpy as np
import pytest

from image_vae.parameters import TrainingParams
from image_vae.pipelines.training import nodes


@pytest.mark.parametrize("ema_momentum", [0.9, None])
def test_train_model_passes_the_training_parameters_on(
    monkeypatch, tmp_path, ema_momentum
):
    seen = {}
    real_fit = nodes.fit_vae

    def fit_vae(model, train, val, **settings):
        seen.update(settings, validation=val)
        return real_fit(model, train, val, **settings)

    monkeypatch.setattr(nodes, "fit_vae", fit_vae)
    images = np.random.default_rng(0).random((64, 16, 16, 1)).astype("float32")
    params = {
        "filters": [4, 8],
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 0.002,
        "learning_rate_schedule": "constant",
        "ema_momentum": ema_momentum,
        "adam_beta_2": 0.95,
        "precision": "float32",
        "seed": 3,
        "checkpoint_dir": str(tmp_path),
        "validation_images": 4,
    }

    _, history = nodes.train_model(images[:48], images[48:], params)

    assert {key: seen[key] for key in ("epochs", "batch_size", "seed")} == {
        "epochs": 2,
        "batch_size": 32,
        "seed": 3,
    }
    assert seen["learning_rate"] == 0.002
    assert seen["schedule"] == "constant"
    assert seen["ema_momentum"] == ema_momentum
    assert seen["adam_beta_2"] == 0.95
    assert seen["precision"] == "float32"
    assert len(history) == 2
    # Four of the sixteen test images, the first and the last among them.
    np.testing.assert_array_equal(seen["validation"], images[[48, 53, 58, 63]])


def test_the_checkpoint_folder_does_not_depend_on_the_validation_images(tmp_path):
    images = np.zeros((8, 8, 8, 1), dtype="uint8")
    base = {"checkpoint_dir": str(tmp_path)}

    def folder(**params):
        return nodes.checkpoint_path(TrainingParams(**base, **params), images)

    assert folder(validation_images=10) == folder(validation_images=None)
    assert folder(epochs=3) != folder(epochs=4)
