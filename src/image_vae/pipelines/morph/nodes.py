"""Nodes of the ``morph`` pipeline: walk the latent space toward a class."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from image_vae.errors import UserFacingError
from image_vae.pipelines.evaluation.nodes import encode_images, latent_view
from image_vae.vae import VAE
from image_vae.vae.latent import class_direction, morph_path, resolve_class
from image_vae.vae.plotting import plot_latent_path
from image_vae.vae.tables import latent_frame_columns, z_means

logger = logging.getLogger(__name__)

# Training images encoded again to tell whether saved codes came from the model.
_CODES_CHECKED = 64


class LatentDimMismatchError(UserFacingError):
    """The saved model was trained at another latent dim than the parameters say."""


class UnknownClassError(UserFacingError):
    """``morph.target_class`` names no class of the data, or the data has none."""


def target_index(target: str | int | None, class_names: Sequence[str]) -> int:
    """The index of ``morph.target_class`` among the data's classes.

    ``None`` is the second class (index 1: Trouser for Fashion-MNIST).

    Raises:
        UnknownClassError: Unlabelled data, or a name or index not among them.
    """
    if len(class_names) < 2:  # a direction needs another class
        raise UnknownClassError(
            "morph needs class labels: the images have "
            + ("none" if not class_names else "only one class")
            + "; use a folder with one sub-folder per class (or an IDX label file)"
        )
    try:
        return resolve_class(1 if target is None else target, class_names)
    except ValueError as error:
        raise UnknownClassError(
            f"morph.target_class: got {target!r}; allowed: {error}"
        ) from None


def training_codes(  # noqa: PLR0913, PLR0917  a node: model, codes, data, parameters
    model: VAE,
    saved: pd.DataFrame | None,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    latent_dim: int,
    target_class: Any,  # str | int | None; a union would make Kedro warn
) -> pd.DataFrame:
    """The training set's codes under the model: the saved ones, or encoded anew.

    ``kedro run`` saves the codes of the model it trains; they are reused when
    they belong to this model (its encoding of the first images matches them),
    else (a model from elsewhere, a set changed since) the images are encoded.

    Args:
        model: The saved ``vae_model``.
        saved: ``latent_train`` as the last ``kedro run`` saved it, or ``None``.
        images: ``(n, H, W, C)`` training images (uint8 or in [0, 1]).
        labels: ``(n,)`` labels.
        class_names: The data's class names.
        latent_dim: ``training.latent_dim`` of the current parameters.
        target_class: ``morph.target_class``, checked before any encoding.
    """
    target_index(target_class, class_names)
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
    return encode_images(model, images, labels, class_names)


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


def compute_class_direction(
    latent: pd.DataFrame, class_names: Sequence[str], params: dict[str, Any]
) -> dict:
    """Unit vector from the other classes' mean μ to the target class's mean μ."""
    target = target_index(params["target_class"], class_names)
    direction = class_direction(z_means(latent), latent["label"].to_numpy(), target)
    return {
        "target_class": class_names[target],
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
    model: VAE,
    path: pd.DataFrame,
    latent: pd.DataFrame,
    class_names: Sequence[str],
    direction: dict,
) -> Figure:
    """The morph path over the training-set scatter and the images along it."""
    scatter, projection = latent_view(latent, class_names)
    points = path[[c for c in path.columns if c.startswith("z_")]].to_numpy(np.float32)
    return plot_latent_path(
        projection.transform(points),
        model.decode(points),
        points,
        scatter,
        title=f"Morph toward '{direction['target_class']}'",
    )
