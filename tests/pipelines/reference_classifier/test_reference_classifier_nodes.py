"""Tests of the reference classifier's nodes on a tiny slice of fake data."""

import numpy as np

from image_vae.pipelines.reference_classifier.nodes import (
    evaluate_reference_classifier,
    train_reference_classifier,
)

PARAMS = {
    "filters": [4],
    "dense_units": 8,
    "dropout": 0.0,
    "epochs": 1,
    "batch_size": 16,
    "learning_rate": 0.001,
    "seed": 0,
}


def test_trains_a_ten_class_model_and_reports_accuracy_and_confidence():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 10, 40)

    model = train_reference_classifier(images, labels, PARAMS)
    metrics = evaluate_reference_classifier(model, images, labels)

    assert model.output_shape == (None, 10)
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.1 <= metrics["test_confidence"] <= 1.0
