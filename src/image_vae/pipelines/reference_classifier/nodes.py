"""Nodes of the ``reference_classifier`` pipeline: the judge of decoded images."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from image_vae.parameters import ReferenceClassifierParams
from image_vae.vae.classifier import build_classifier, classify, fit_classifier
from image_vae.vae.metrics import mean_confidence

logger = logging.getLogger(__name__)


def train_reference_classifier_if_missing(
    saved: keras.Model | None,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    params: dict[str, Any],
) -> keras.Model:
    """The saved judge when there is one for these images, else a new one.

    Every run that measures sample quality then uses the same judge, so that
    their numbers compare; delete the saved model to train a new one. A saved
    judge of other images (another size, channels or number of classes) is
    replaced. Unlabelled images get no judge: an untrained placeholder is saved
    instead, and sample quality is left out.

    Args:
        saved: The newest saved reference classifier, or ``None``.
        images: ``(n, H, W, C)`` uint8, or float32 in [0, 1].
        labels: ``(n,)`` class indices.
        class_names: The data's class names (empty: unlabelled).
        params: The ``reference_classifier`` parameters.
    """
    if not class_names:
        logger.info("reference classifier: not trained, the images have no labels")
        # Kedro saves every output: an untrained stand-in, never used as a judge.
        return build_classifier(images.shape[1:], 2, name="no_labels_placeholder")
    if saved is not None and _fits(saved, images.shape[1:], len(class_names)):
        logger.info("Reusing the saved reference classifier (the fixed judge)")
        return saved
    logger.info(
        "No reference classifier saved yet for %s images of %d classes: training one",
        "×".join(map(str, images.shape[1:])),
        len(class_names),
    )
    return train_reference_classifier(images, labels, params, len(class_names))


def _fits(model: keras.Model, image_shape: Sequence[int], n_classes: int) -> bool:
    return tuple(model.input_shape[1:]) == tuple(image_shape) and model.output_shape[
        -1
    ] == max(n_classes, 1)


def train_reference_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    params: dict[str, Any],
    n_classes: int = 10,
) -> keras.Model:
    """Builds the small CNN from ``params`` and trains it on the training images.

    Args:
        images: ``(n, H, W, C)`` uint8, or float32 in [0, 1].
        labels: ``(n,)`` class indices.
        params: The ``reference_classifier`` parameters.
        n_classes: Number of classes (``len(class_names)``).
    """
    config = ReferenceClassifierParams.model_validate(params)
    keras.utils.set_random_seed(config.seed)  # initial weights are seeded too
    model = build_classifier(
        images.shape[1:],
        n_classes,
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
    """Test accuracy and mean confidence (largest class probability), in [0, 1];
    empty for unlabelled images."""
    if not len(labels) or labels.min() < 0:
        return {}
    _, probabilities = classify(model, images)
    return {
        "test_accuracy": float(np.mean(probabilities.argmax(axis=1) == labels)),
        "test_confidence": mean_confidence(probabilities),
    }
