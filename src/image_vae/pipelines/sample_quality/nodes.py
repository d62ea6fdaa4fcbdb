"""Nodes of the ``sample_quality`` pipeline: decoded images through the judge."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from image_vae.errors import UserFacingError
from image_vae.pipelines.morph.nodes import target_index
from image_vae.vae import VAE
from image_vae.vae.classifier import classify
from image_vae.vae.latent import class_direction
from image_vae.vae.metrics import frechet_distance, mean_confidence
from image_vae.vae.tables import z_means

logger = logging.getLogger(__name__)


class JudgeMismatchError(UserFacingError):
    """The saved reference classifier was trained on other images or classes."""


def check_judge(
    classifier: keras.Model, image_shape: Sequence[int], class_names: Sequence[str]
) -> None:
    """Refuses a reference classifier made for other data (shape or classes)."""
    shape = tuple(classifier.input_shape[1:])
    classes = classifier.output_shape[-1]
    if shape != tuple(image_shape) or classes != len(class_names):
        raise JudgeMismatchError(
            f"reference_classifier_model: it takes {shape} images and "
            f"{classes} classes, the data has {tuple(image_shape)} and "
            f"{len(class_names)}; run `kedro run --pipeline=reference_classifier` "
            "to train one for these images"
        )


def compute_sample_quality(  # noqa: PLR0913, PLR0917  a node: models, data, parameters
    model: VAE,
    classifier: keras.Model | None,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    class_names: Sequence[str],
    params: dict[str, Any],
) -> dict[str, float]:
    """Images decoded from ``z ~ N(0, I)`` against the test images, as the judge sees.

    Returns:
        ``fid``: Fréchet distance between the classifier features of
        ``n_samples`` prior samples and of the test images (0 is best);
        ``confidence``: the classifier's mean largest class probability on the
        samples, and ``real_confidence`` on the test images; ``classifier_accuracy``
        on the test images, so every run records how good its judge is. Empty
        for unlabelled images: there is no judge.
    """
    if not class_names:
        logger.info("sample quality: left out, the images have no class labels")
        return {}
    check_judge(classifier, test_images.shape[1:], class_names)
    _, generated = model.sample_prior(params["n_samples"], seed=params["seed"])
    fake_features, fake_probabilities = classify(classifier, generated)
    real_features, real_probabilities = classify(classifier, test_images)
    return {
        "fid": frechet_distance(fake_features, real_features),
        "confidence": mean_confidence(fake_probabilities),
        "real_confidence": mean_confidence(real_probabilities),
        "classifier_accuracy": float(
            np.mean(real_probabilities.argmax(axis=1) == test_labels)
        ),
    }


def compute_morph_success(  # noqa: PLR0913, PLR0917  a node: models, codes, parameters
    model: VAE,
    classifier: keras.Model | None,
    latent_train: pd.DataFrame,
    class_names: Sequence[str],
    morph: dict[str, Any],
    starts: int,
) -> dict[str, float]:
    """Fraction of seeded morphs whose end point the judge calls the target class.

    Each start ``z₀ ~ N(0, I)`` (drawn with ``morph.seed``: the first is the
    ``morph`` pipeline's own) walks ``morph.length`` along the unit direction
    from the other classes' mean μ to the target class's mean μ; the image decoded
    at the end is classified.
    """
    if not class_names:
        logger.info("morph success rate: left out, the images have no class labels")
        return {}
    target = target_index(morph["target_class"], class_names)
    direction = class_direction(
        z_means(latent_train), latent_train["label"].to_numpy(), target
    )
    rng = np.random.default_rng(morph["seed"])
    ends = rng.standard_normal((starts, len(direction))) + morph["length"] * direction
    _, probabilities = classify(classifier, model.decode(ends))
    return {
        "morph_success_rate": float(np.mean(probabilities.argmax(axis=1) == target))
    }


def merge_metrics(*parts: dict[str, float]) -> dict[str, float]:
    """One dict of every metric; later parts win on a clash."""
    return {name: value for part in parts for name, value in part.items()}
