"""Nodes of the ``reference_classifier`` pipeline: the judge of decoded images."""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np

from image_vae.parameters import ReferenceClassifierParams
from image_vae.vae.classifier import build_classifier, classify, fit_classifier
from image_vae.vae.latent import FASHION_MNIST_CLASSES
from image_vae.vae.metrics import mean_confidence

logger = logging.getLogger(__name__)


def train_reference_classifier_if_missing(
    saved: keras.Model | None,
    images: np.ndarray,
    labels: np.ndarray,
    params: dict[str, Any],
) -> keras.Model:
    """The saved judge when there is one, else a newly trained one.

    Every run that measures sample quality then uses the same judge, so that
    their numbers compare; delete the saved model to train a new one.

    Args:
        saved: The newest saved reference classifier, or ``None``.
        images: ``(n, H, W, C)`` float32 in [0, 1].
        labels: ``(n,)`` class indices.
        params: The ``reference_classifier`` parameters.
    """
    if saved is not None:
        logger.info("Reusing the saved reference classifier (the fixed judge)")
        return saved
    logger.info("No reference classifier saved yet: training one")
    return train_reference_classifier(images, labels, params)


def train_reference_classifier(
    images: np.ndarray, labels: np.ndarray, params: dict[str, Any]
) -> keras.Model:
    """Builds the small CNN from ``params`` and trains it on the training images.

    Args:
        images: ``(n, H, W, C)`` float32 in [0, 1].
        labels: ``(n,)`` class indices.
        params: The ``reference_classifier`` parameters.
    """
    config = ReferenceClassifierParams.model_validate(params)
    keras.utils.set_random_seed(config.seed)  # initial weights are seeded too
    model = build_classifier(
        images.shape[1:],
        len(FASHION_MNIST_CLASSES),
        filters=config.filters,
        dense_units=config.dense_units,
        dropout=config.dropout,
    )
    fit_classifier(
        model,
        images,
        labels,
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        seed=config.seed,
    )
    return model


def evaluate_reference_classifier(
    model: keras.Model, images: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """Test accuracy and mean confidence (largest class probability), in [0, 1]."""
    _, probabilities = classify(model, images)
    return {
        "test_accuracy": float(np.mean(probabilities.argmax(axis=1) == labels)),
        "test_confidence": mean_confidence(probabilities),
    }
