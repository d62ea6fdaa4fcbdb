"""Tests of the reconstruction term against independent computations."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from image_vae.vae.losses import reconstruction_loss
from image_vae.vae.posterior import DiagonalGaussian


def _numpy(tensor):
    return ops.convert_to_numpy(tensor)


def test_bce_from_logits_is_the_bernoulli_negative_log_likelihood():
    rng = np.random.default_rng(1)
    x = rng.random((3, 4, 4, 1)).astype("float32")
    logits = rng.normal(0, 3, (3, 4, 4, 1)).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3))

    from_logits = _numpy(reconstruction_loss(x, logits, "bce", from_logits=True))
    from_probabilities = _numpy(reconstruction_loss(x, p.astype("float32"), "bce"))

    assert from_logits.shape == (3,)
    np.testing.assert_allclose(from_logits, expected, rtol=1e-5)
    np.testing.assert_allclose(from_probabilities, expected, rtol=1e-4)


def test_bce_from_logits_stays_exact_where_the_sigmoid_saturates():
    x = np.array([[1.0, 0.0, 1.0]], dtype="float32")
    logits = np.array([[200.0, -200.0, -200.0]], dtype="float32")

    loss = _numpy(reconstruction_loss(x, logits, "bce", from_logits=True))

    # The last pixel is confidently wrong: its loss is the logit's magnitude.
    np.testing.assert_allclose(loss, [200.0], rtol=1e-6)


def test_mse_sums_squared_errors_over_pixels():
    x = np.zeros((2, 2, 2, 1), dtype="float32")
    x_hat = np.full((2, 2, 2, 1), 0.5, dtype="float32")
    x_hat[1] = 1.0

    loss = _numpy(reconstruction_loss(x, x_hat, "mse"))
    from_logits = _numpy(
        reconstruction_loss(x, np.zeros_like(x), "mse", from_logits=True)
    )

    np.testing.assert_allclose(loss, [1.0, 4.0])
    np.testing.assert_allclose(from_logits, [1.0, 1.0])  # sigmoid(0) = 0.5


def test_losses_work_in_a_compiled_function():
    @tf.function
    def total(x, logits, z_mean, z_log_var):
        kl = DiagonalGaussian(z_mean, z_log_var).kl_to_standard_normal()
        return reconstruction_loss(x, logits, "bce", from_logits=True) + kl

    x = np.ones((2, 4, 4, 1), dtype="float32")
    z = np.zeros((2, 2), dtype="float32")

    values = total(x, np.zeros_like(x), z, z).numpy()

    np.testing.assert_allclose(values, [16 * np.log(2)] * 2, rtol=1e-6)


def test_unknown_reconstruction_loss_is_rejected():
    x = np.zeros((1, 2, 2, 1), dtype="float32")
    with pytest.raises(ValueError, match="Received: kind='l1'"):
        reconstruction_loss(x, x, "l1")
