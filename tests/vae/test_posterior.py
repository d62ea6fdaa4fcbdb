"""The diagonal Gaussian posterior against independent NumPy computations."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from image_vae.vae.posterior import DiagonalGaussian

MEAN = np.array([[0.5, -1.0, 2.0]], dtype="float32")
LOG_VAR = np.array([[-1.0, 0.5, 0.0]], dtype="float32")


def _numpy(tensor):
    return ops.convert_to_numpy(tensor)


def test_kl_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    std = np.exp(0.5 * LOG_VAR)
    z = MEAN + std * rng.standard_normal((200_000, 3))

    # KL(q ‖ p) = E_q[log q(z) - log p(z)]; the 2π terms cancel.
    log_q = -0.5 * (LOG_VAR + ((z - MEAN) / std) ** 2).sum(axis=1)
    log_p = -0.5 * (z**2).sum(axis=1)
    monte_carlo = float(np.mean(log_q - log_p))

    closed_form = float(
        _numpy(DiagonalGaussian(MEAN, LOG_VAR).kl_to_standard_normal())[0]
    )

    assert closed_form == pytest.approx(monte_carlo, abs=0.03)


def test_kl_is_zero_at_the_prior_and_one_value_per_row():
    mean = np.zeros((4, 16), dtype="float32")
    mean[1, 0] = 2.0

    kl = _numpy(DiagonalGaussian(mean, np.zeros_like(mean)).kl_to_standard_normal())

    assert kl.shape == (4,)
    np.testing.assert_allclose(kl, [0.0, 2.0, 0.0, 0.0], atol=1e-6)


def test_log_prob_is_the_sum_of_univariate_normal_log_densities():
    z = np.array([[[0.0, 0.0, 0.0]], [[1.0, -2.0, 0.5]]], dtype="float32")  # (K, 1, 3)
    var = np.exp(LOG_VAR.astype("float64"))
    expected = -0.5 * ((z - MEAN) ** 2 / var + np.log(2 * math.pi * var)).sum(axis=-1)

    log_prob = _numpy(DiagonalGaussian(MEAN, LOG_VAR).log_prob(z))

    assert log_prob.shape == (2, 1)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)


def test_standard_normal_log_prob_at_zero():
    z = np.zeros((2, 4), dtype="float32")

    log_prob = _numpy(DiagonalGaussian.standard_normal(z).log_prob(z))

    np.testing.assert_allclose(log_prob, [-2 * math.log(2 * math.pi)] * 2, rtol=1e-6)


def test_sample_is_mean_plus_std_times_noise_and_seeded():
    posterior = DiagonalGaussian(MEAN, LOG_VAR)
    epsilon = np.array([[1.0, -1.0, 2.0]], dtype="float32")

    z = _numpy(posterior.sample(epsilon=epsilon))
    first = _numpy(posterior.sample(seed=keras.random.SeedGenerator(5)))
    again = _numpy(posterior.sample(seed=keras.random.SeedGenerator(5)))
    other = _numpy(posterior.sample(seed=keras.random.SeedGenerator(6)))

    np.testing.assert_allclose(z, MEAN + np.exp(0.5 * LOG_VAR) * epsilon, rtol=1e-6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
