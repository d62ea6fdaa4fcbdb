"""The morph reuses the training set's codes saved with its model, else encodes."""

import keras
import numpy as np
import pytest

from image_vae.pipelines.evaluation.nodes import encode_images
from image_vae.pipelines.morph.nodes import LatentDimMismatchError, training_codes
from image_vae.vae import VAE

SHAPE = (8, 8, 1)


def _model(seed):
    keras.utils.set_random_seed(seed)
    return VAE(SHAPE, 2, filters=(4, 8), seed=seed)


def _data():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(20, *SHAPE)).astype("float32"), rng.integers(0, 3, 20)


def test_saved_codes_of_the_same_model_are_reused():
    model, (images, labels) = _model(0), _data()
    saved = encode_images(model, images, labels)

    assert training_codes(model, saved, images, labels, 2) is saved


def test_codes_of_another_model_or_none_are_encoded_anew():
    model, (images, labels) = _model(0), _data()
    other = encode_images(_model(1), images, labels)

    fresh = training_codes(model, other, images, labels, 2)
    from_nothing = training_codes(model, None, images, labels, 2)

    expected = encode_images(model, images, labels)
    assert fresh is not other
    np.testing.assert_allclose(fresh["z_mean_0"], expected["z_mean_0"], rtol=1e-5)
    np.testing.assert_allclose(
        from_nothing["z_mean_1"], expected["z_mean_1"], rtol=1e-5
    )


def test_another_latent_dim_is_refused():
    model, (images, labels) = _model(0), _data()
    with pytest.raises(LatentDimMismatchError, match="got 3, but the saved vae_model"):
        training_codes(model, None, images, labels, 3)
