"""Nodes of the ``morph`` pipeline: walk the latent space toward a class."""

from __future__ import annotations

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
from image_vae.vae.tables import z_means


class LatentDimMismatchError(UserFacingError):
    """The saved model was trained at another latent dim than the parameters say."""


def encode_training_set(
    model: VAE, images: np.ndarray, labels: np.ndarray, latent_dim: int
) -> pd.DataFrame:
    """Encodes the training images with the saved model, after checking its size.

    Args:
        model: The saved ``vae_model``.
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
    return encode_images(model, images, labels)


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
