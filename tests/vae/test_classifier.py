"""Tests of the reference classifier: shapes, learning, features and saving."""

import keras
import numpy as np
import pytest
from tiny_training import variables_made_in_traced_functions

from image_vae.vae.classifier import (
    FEATURES_LAYER,
    build_classifier,
    classify,
    fit_classifier,
)

SHAPE = (8, 8, 1)


def _bars(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes: a horizontal bar, a vertical bar or a square, anywhere."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *SHAPE), dtype="float32")
    labels = rng.integers(0, 3, n)
    corners = rng.integers(0, 5, (n, 2))
    for image, label, (a, b) in zip(images, labels, corners, strict=True):
        if label == 0:
            image[a, b : b + 4] = 1.0
        elif label == 1:
            image[a : a + 4, b] = 1.0
        else:
            image[a : a + 3, b : b + 3] = 1.0
    return images, labels


def test_classify_returns_features_and_probabilities():
    model = build_classifier(SHAPE, 3, filters=(4,), dense_units=16)

    features, probabilities = classify(model, np.zeros((5, *SHAPE), "float32"))

    assert features.shape == (5, 16) and probabilities.shape == (5, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.get_layer(FEATURES_LAYER).units == 16


def test_fit_learns_separable_shapes():
    images, labels = _bars()
    keras.utils.set_random_seed(0)
    model = build_classifier(SHAPE, 3, filters=(8,), dense_units=32)

    with variables_made_in_traced_functions() as made:
        history = fit_classifier(
            model, images, labels, epochs=15, batch_size=32, learning_rate=3e-3, seed=0
        )
    test_images, test_labels = _bars(120, seed=1)
    _, probabilities = classify(model, test_images)

    assert history["loss"][-1] < history["loss"][0]
    assert np.mean(probabilities.argmax(axis=1) == test_labels) > 0.9
    assert made == []  # the training step is traced once


def test_saved_classifier_loads_in_safe_mode_with_the_same_outputs(tmp_path):
    model = build_classifier(SHAPE, 3, filters=(4,), dense_units=8)
    images, _ = _bars(6)
    model.save(tmp_path / "classifier.keras")

    loaded = keras.saving.load_model(tmp_path / "classifier.keras", safe_mode=True)

    for a, b in zip(classify(model, images), classify(loaded, images), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_build_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: n_classes=1"):
        build_classifier(SHAPE, 1)
    with pytest.raises(ValueError, match=r"dropout=1\.0"):
        build_classifier(SHAPE, dropout=1.0)
