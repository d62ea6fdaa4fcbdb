"""Tests of the evaluation node that measures the model on the test set."""

import keras
import numpy as np
import pytest

from image_vae.pipelines.evaluation.nodes import (
    compute_test_metrics,
    encode_images,
)
from image_vae.vae import VAE

SHAPE = (8, 8, 1)
PARAMS = {"iwae_samples": 4, "iwae_images": 5, "knn_k": 3, "seed": 0}
NAMES = ["a", "b", "c"]


def test_test_metrics_add_the_bound_active_units_and_knn_accuracy():
    keras.utils.set_random_seed(0)
    model = VAE(SHAPE, 2, filters=(4, 8), seed=0)
    rng = np.random.default_rng(0)
    train, test = rng.uniform(size=(30, *SHAPE)), rng.uniform(size=(12, *SHAPE))
    train_labels, test_labels = rng.integers(0, 3, 30), rng.integers(0, 3, 12)
    latent = encode_images(model, test, test_labels, NAMES)

    metrics = compute_test_metrics(
        model, test, latent, encode_images(model, train, train_labels, NAMES), PARAMS
    )

    assert {"negative_elbo", "kl_loss", "mse_per_pixel"} <= set(metrics)
    assert metrics["iwae_nll"] > 0
    assert metrics["iwae_bits_per_dim"] == pytest.approx(
        metrics["iwae_nll"] / (64 * np.log(2.0))
    )
    test_means = model.encode(test)[0]
    assert metrics["active_units"] == np.sum(np.var(test_means, axis=0) > 0.01)
    assert 0.0 <= metrics["knn_accuracy"] <= 1.0


def test_iwae_uses_only_the_first_iwae_images():
    keras.utils.set_random_seed(0)
    model = VAE(SHAPE, 2, filters=(4, 8), seed=0)
    rng = np.random.default_rng(1)
    images, labels = rng.uniform(size=(8, *SHAPE)), rng.integers(0, 2, 8)
    latent = encode_images(model, images, labels, NAMES)
    altered = images.copy()
    altered[5:] = 0.0  # beyond the first 5 images the bound must not look

    first = compute_test_metrics(model, images, latent, latent, PARAMS)
    second = compute_test_metrics(model, altered, latent, latent, PARAMS)

    assert first["iwae_nll"] == second["iwae_nll"]


def test_uint8_images_measure_as_their_float_twins_and_unlabelled_skip_knn(caplog):
    keras.utils.set_random_seed(0)
    model = VAE(SHAPE, 2, filters=(4, 8), seed=0)
    pixels = np.random.default_rng(2).integers(0, 256, (10, *SHAPE), dtype=np.uint8)
    unlabelled = np.full(10, -1)
    latent = encode_images(model, pixels, unlabelled, [])
    caplog.set_level("INFO")

    from_uint8 = compute_test_metrics(model, pixels, latent, latent, PARAMS)
    from_float = compute_test_metrics(
        model, pixels / np.float32(255), latent, latent, PARAMS
    )

    assert from_uint8 == pytest.approx(from_float, rel=1e-5)
    assert "knn_accuracy" not in from_uint8
    assert set(latent["label_name"]) == {""}
    assert caplog.text.count("knn_accuracy: left out") == 2
