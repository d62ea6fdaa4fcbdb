"""Tests of the model metrics: IWAE bound, active units, k-NN accuracy, FID."""

import keras
import numpy as np
import pytest
from keras import ops

from image_vae.vae import VAE, fit_vae
from image_vae.vae.classifier import build_classifier, classify
from image_vae.vae.losses import reconstruction_loss
from image_vae.vae.metrics import (
    active_units,
    bits_per_dim,
    frechet_distance,
    iwae_log_likelihood,
    knn_accuracy,
    mean_confidence,
)

SHAPE = (8, 8, 1)


def _images(n: int = 200, seed: int = 0) -> np.ndarray:
    """Binary 8×8 images: a bright 3×4 rectangle at a random place."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *SHAPE), dtype="float32")
    for image, (top, left) in zip(images, rng.integers(0, 5, (n, 2)), strict=True):
        image[top : top + 3, left : left + 4] = 1.0
    return images


def _trained(latent_dim: int) -> VAE:
    keras.utils.set_random_seed(0)
    model = VAE(SHAPE, latent_dim, filters=(4, 8), seed=0)
    fit_vae(
        model, _images(), None, epochs=10, batch_size=32, learning_rate=1e-2, seed=0
    )
    return model


@pytest.fixture(scope="module")
def model_1d() -> VAE:
    """A tiny VAE with a 1-D latent space, trained for a few seconds."""
    return _trained(latent_dim=1)


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(model_1d):
    images = _images(64, seed=1)
    elbo = -np.mean(model_1d.per_image_losses(images)["negative_elbo"])

    bounds = [
        np.mean(iwae_log_likelihood(model_1d, images, k, seed=0)) for k in (1, 8, 64)
    ]

    assert bounds[0] < bounds[1] < bounds[2]
    assert bounds[2] > elbo
    assert bounds[0] == pytest.approx(elbo, abs=1.0)  # L_1 estimates the ELBO


def test_iwae_bound_converges_to_the_log_likelihood_by_quadrature(model_1d):
    # With one latent dimension, log p(x) = log ∫ p(x|z) p(z) dz on a fine grid.
    images = _images(3, seed=2)
    grid = np.linspace(-8.0, 8.0, 4001, dtype="float32")[:, None]
    logits = model_1d.decoder(grid)
    log_prior = -0.5 * (grid[:, 0].astype("float64") ** 2 + np.log(2 * np.pi))
    for image in images:
        targets = np.repeat(image[None], len(grid), axis=0)
        log_joint = log_prior - ops.convert_to_numpy(
            reconstruction_loss(targets, logits, "bce", from_logits=True)
        ).astype("float64")
        peak = log_joint.max()
        exact = peak + np.log(
            np.sum(np.exp(log_joint - peak)) * (grid[1, 0] - grid[0, 0])
        )

        bound = iwae_log_likelihood(model_1d, image[None], 4096, seed=0)[0]

        assert bound == pytest.approx(exact, abs=0.05)


def test_iwae_bound_is_repeatable_with_a_seed_and_independent_of_batching(model_1d):
    images = _images(10, seed=3)

    first = iwae_log_likelihood(model_1d, images, 16, seed=5)
    again = iwae_log_likelihood(model_1d, images, 16, seed=5)

    np.testing.assert_array_equal(first, again)
    assert first.shape == (10,) and np.all(first < 0)


def test_iwae_rejects_bad_arguments(model_1d):
    with pytest.raises(ValueError, match="samples must be ≥ 1"):
        iwae_log_likelihood(model_1d, _images(2), 0)
    with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 8, 8\)"):
        iwae_log_likelihood(model_1d, _images(2)[..., 0], 4)


def test_bits_per_dim_divides_nats_by_pixels_and_ln_2():
    assert bits_per_dim(1024 * np.log(2.0), (32, 32, 1)) == pytest.approx(1.0)


def test_active_units_count_dimensions_whose_mean_varies():
    rng = np.random.default_rng(0)
    z_mean = np.column_stack(
        [rng.normal(0, 1, 500), np.full(500, 3.0), rng.normal(0, 0.05, 500)]
    )

    assert active_units(z_mean) == 1
    assert active_units(z_mean, threshold=1e-4) == 2


def test_knn_accuracy_is_one_on_separable_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])

    def clusters(n):
        labels = rng.integers(0, 3, n)
        return centres[labels] + rng.normal(0, 0.5, (n, 2)), labels

    reference, reference_labels = clusters(600)
    query, query_labels = clusters(200)

    assert knn_accuracy(query, query_labels, reference, reference_labels) == 1.0
    wrong = (query_labels + 1) % 3
    assert knn_accuracy(query, wrong, reference, reference_labels) == 0.0


def test_knn_vote_ties_go_to_the_nearest_label_and_match_a_brute_force_vote():
    reference = np.array([[1.0], [2.0], [3.0], [4.0]])
    reference_labels = np.array([7, 9, 9, 7])
    # From 0: neighbours 1 (7), 2 (9), 3 (9), 4 (7); k = 4 ties 2-2 → 7 (nearest).
    assert knn_accuracy([[0.0]], [7], reference, reference_labels, k=4) == 1.0
    assert knn_accuracy([[0.0]], [9], reference, reference_labels, k=3) == 1.0

    rng = np.random.default_rng(1)
    reference, query = rng.normal(size=(300, 3)), rng.normal(size=(50, 3))
    labels, query_labels = rng.integers(0, 4, 300), rng.integers(0, 4, 50)
    distances = np.linalg.norm(query[:, None] - reference[None], axis=2)
    nearest = np.argsort(distances, axis=1)[:, :5]
    brute = [
        # Majority, ties to the label of the nearest tied member.
        max(
            row,
            key=lambda label, row=row: (
                list(row).count(label),
                -list(row).index(label),
            ),
        )
        for row in labels[nearest]
    ]
    assert knn_accuracy(query, query_labels, reference, labels, k=5) == np.mean(
        np.array(brute) == query_labels
    )


def test_knn_rejects_k_larger_than_the_reference_set():
    with pytest.raises(ValueError, match="Received: k=3"):
        knn_accuracy([[0.0]], [0], [[1.0], [2.0]], [0, 1], k=3)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 16)) @ rng.normal(size=(16, 16))

    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    # Whitened samples have exactly zero mean and identity covariance, so the
    # distance between a·w + m and w is ‖m‖² + Σ (a_j - 1)².
    rng = np.random.default_rng(0)
    white = rng.normal(size=(1000, 3))
    white -= white.mean(axis=0)
    white = white @ np.linalg.inv(np.linalg.cholesky(np.cov(white, rowvar=False))).T
    scale, shift = np.array([1.0, 2.0, 0.5]), np.array([1.0, -1.0, 0.0])

    distance = frechet_distance(white * scale + shift, white)

    assert distance == pytest.approx(2.0 + 1.0 + 0.25, rel=1e-4)


def test_fid_on_classifier_features_grows_as_images_are_corrupted():
    keras.utils.set_random_seed(0)
    classifier = build_classifier((16, 16, 1), filters=(8,), dense_units=32)
    rng = np.random.default_rng(0)
    images = np.zeros((300, 16, 16, 1), dtype="float32")
    for image, (top, left) in zip(images, rng.integers(0, 10, (300, 2)), strict=True):
        image[top : top + 6, left : left + 5] = 1.0
    noise = rng.uniform(size=images.shape).astype("float32")
    features, _ = classify(classifier, images)

    distances = [
        frechet_distance(
            features, classify(classifier, (1 - a) * images + a * noise)[0]
        )
        for a in (0.0, 0.2, 0.5, 1.0)
    ]

    assert distances[0] == pytest.approx(0.0, abs=1e-6)
    assert distances[1] < distances[2] < distances[3]


def test_mean_confidence_is_the_mean_largest_probability():
    assert mean_confidence([[0.9, 0.1], [0.4, 0.6]]) == pytest.approx(0.75)
