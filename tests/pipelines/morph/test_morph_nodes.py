"""The morph reuses the training set's codes saved with its model, else encodes."""

import keras
import numpy as np
import pytest

from image_vae.pipelines.evaluation.nodes import encode_images
from image_vae.pipelines.morph.nodes import (
    LatentDimMismatchError,
    UnknownClassError,
    training_codes,
)
from image_vae.vae import VAE

SHAPE = (8, 8, 1)
NAMES = ["a", "b", "c"]


def _model(seed):
    keras.utils.set_random_seed(seed)
    return VAE(SHAPE, 2, filters=(4, 8), seed=seed)


def _data():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(20, *SHAPE)).astype("float32"), rng.integers(0, 3, 20)


def test_saved_codes_of_the_same_model_are_reused():
    model, (images, labels) = _model(0), _data()
    saved = encode_images(model, images, labels, NAMES)

    assert training_codes(model, saved, images, labels, NAMES, 2, None) is saved


def test_codes_of_another_model_or_none_are_encoded_anew():
    model, (images, labels) = _model(0), _data()
    other = encode_images(_model(1), images, labels, NAMES)

    fresh = training_codes(model, other, images, labels, NAMES, 2, None)
    from_nothing = training_codes(model, None, images, labels, NAMES, 2, None)

    expected = encode_images(model, images, labels, NAMES)
    assert fresh is not other
    np.testing.assert_allclose(fresh["z_mean_0"], expected["z_mean_0"], rtol=1e-5)
    np.testing.assert_allclose(
        from_nothing["z_mean_1"], expected["z_mean_1"], rtol=1e-5
    )


def test_another_latent_dim_is_refused():
    model, (images, labels) = _model(0), _data()
    with pytest.raises(LatentDimMismatchError, match="got 3, but the saved vae_model"):
        training_codes(model, None, images, labels, NAMES, 3, None)


def test_unlabelled_images_cannot_morph_and_an_unknown_class_is_named():
    model, (images, labels) = _model(0), _data()
    with pytest.raises(UnknownClassError, match=r"^morph needs class labels"):
        training_codes(model, None, images, np.full(20, -1), [], 2, None)
    with pytest.raises(UnknownClassError, match=r"got 'd'; allowed: .*2='c'"):
        training_codes(model, None, images, labels, NAMES, 2, "d")
