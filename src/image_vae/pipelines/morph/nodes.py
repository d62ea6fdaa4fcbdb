"""Nodes of the ``morph`` pipeline: walk the latent space toward a class."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from image_vae.errors import UserFacingError
from image_vae.pipelines.evaluation.nodes import encode_images, latent_view
from image_vae.vae import VAE
from image_vae.vae.latent import (
    FASHION_MNIST_CLASSES,
    class_direction,
    morph_path,
    resolve_class,
)
from image_vae.vae.plotting import plot_latent_path
from image_vae.vae.tables import latent_frame_columns, z_means

logger = logging.getLogger(__name__)

# Training images encoded again to tell whether saved codes came from the model.
_CODES_CHECKED = 64


class LatentDimMismatchError(UserFacingError):
    """The saved model was trained at another latent dim than the parameters say."""


def training_codes(
    model: VAE,
    saved: pd.DataFrame | None,
    images: np.ndarray,
    labels: np.ndarray,
    latent_dim: int,
) -> pd.DataFrame:
    """The training set's codes under the model: the saved ones, or encoded anew.

    ``kedro run`` saves the codes of the model it trains; they are reused when
    they belong to this model (its encoding of the first images matches them),
    else (a model from elsewhere, a set changed since) the images are encoded.

    Args:
        model: The saved ``vae_model``.
        saved: ``latent_train`` as the last ``kedro run`` saved it, or ``None``.
        images: ``(n, H, W, C)`` training images in [0, 1].
        labels: ``(n,)`` labels.
        latent_dim: ``training.latent_dim`` of the current parameters.
    """
    if model.latent_dim != latent_dim:
        raise LatentDimMismatchError(
            f"training.latent_dim: got {latent_dim}, but the saved vae_model was "
            f"trained with latent_dim={model.latent_dim}; run `kedro run --params "
            f"training.latent_dim={latent_dim}` to train one, or drop the override"
        )
    if saved is not None and _codes_belong_to(model, saved, images, labels):
        logger.info("Reusing the training set's codes saved with this model")
        return saved
    logger.info("Encoding the %d training images with this model", len(images))
    return encode_images(model, images, labels)


def _codes_belong_to(
    model: VAE, saved: pd.DataFrame, images: np.ndarray, labels: np.ndarray
) -> bool:
    if len(saved) != len(images) or saved.shape[1] != len(
        latent_frame_columns(model.latent_dim)
    ):
        return False
    if not np.array_equal(saved["label"].to_numpy(), np.asarray(labels)):
        return False
    fresh, _ = model.encode(images[:_CODES_CHECKED])
    return np.allclose(fresh, z_means(saved)[:_CODES_CHECKED], atol=1e-4)


def compute_class_direction(latent: pd.DataFrame, params: dict[str, Any]) -> dict:
    """Unit vector from the other classes' mean μ to the target class's mean μ."""
    target = resolve_class(params["target_class"], FASHION_MNIST_CLASSES)
    direction = class_direction(z_means(latent), latent["label"].to_numpy(), target)
    return {
        "target_class": FASHION_MNIST_CLASSES[target],
        "target_index": target,
        "direction": direction.tolist(),
    }


def walk_toward_class(direction: dict, params: dict[str, Any]) -> pd.DataFrame:
    """A path from a seeded ``z₀ ~ N(0, I)`` along the class direction.

    Returns:
        One row per step: ``step``, ``distance`` and ``z_0 … z_{d-1}``.
    """
    unit = np.asarray(direction["direction"], dtype=np.float32)
    start = np.random.default_rng(params["seed"]).standard_normal(unit.shape)
    points = morph_path(
        start.astype(np.float32), unit, params["length"], params["steps"]
    )
    frame = pd.DataFrame(points, columns=[f"z_{j}" for j in range(points.shape[1])])
    frame.insert(0, "distance", np.linspace(0.0, params["length"], params["steps"]))
    frame.insert(0, "step", np.arange(params["steps"]))
    return frame


def plot_morph(
    model: VAE, path: pd.DataFrame, latent: pd.DataFrame, direction: dict
) -> Figure:
    """The morph path over the training-set scatter and the images along it."""
    scatter, projection = latent_view(latent)
    points = path[[c for c in path.columns if c.startswith("z_")]].to_numpy(np.float32)
    return plot_latent_path(
        projection.transform(points),
        model.decode(points),
        points,
        scatter,
        title=f"Morph toward '{direction['target_class']}'",
    )
