"""Nodes of the ``evaluation`` pipeline: latent codes, test metrics and figures."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from image_vae.vae import VAE
from image_vae.vae.explorer import build_explorer_html
from image_vae.vae.latent import (
    Projection2D,
    grid_points,
    latent_grid,
    straight_path,
)
from image_vae.vae.metrics import (
    active_units,
    bits_per_dim,
    iwae_log_likelihood,
    knn_accuracy,
)
from image_vae.vae.plotting import (
    LatentScatter,
    plot_latent_manifold,
    plot_latent_path,
    plot_latent_scatter,
    plot_prior_samples,
    plot_reconstructions,
)
from image_vae.vae.scaling import unit_batch
from image_vae.vae.tables import latent_frame, z_means

logger = logging.getLogger(__name__)


def is_labelled(labels: np.ndarray) -> bool:
    """Whether images carry class labels (data processing writes −1 when not)."""
    return bool(len(labels)) and int(np.min(labels)) >= 0


def encode_images(
    model: VAE, images: np.ndarray, labels: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """Encodes images to their posterior parameters, one row per image."""
    z_mean, z_log_var = model.encode(images)
    return latent_frame(z_mean, z_log_var, labels, class_names)


def latent_view(
    latent: pd.DataFrame, class_names: Sequence[str] = ()
) -> tuple[LatentScatter, Projection2D]:
    """The 2-D scatter of a latent table (PCA for d > 2) and its projection.

    Without class names (unlabelled images) the scatter has one colour.
    """
    z = z_means(latent)
    projection = Projection2D().fit(z)
    scatter = LatentScatter(
        projection.transform(z),
        latent["label"].to_numpy(),
        list(class_names),
        projection.axis_labels,
    )
    return scatter, projection


def compute_test_metrics(
    model: VAE,
    images: np.ndarray,
    latent: pd.DataFrame,
    latent_train: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, float]:
    """What the model learned, measured on the test set.

    Returns:
        The mean per-image losses of :meth:`VAE.evaluate_elbo` (nats; negative
        ELBO with β = 1, pixel MSE); ``iwae_nll``, ``-L_K`` with ``K =
        iwae_samples`` on the first ``iwae_images`` images, an upper bound on
        ``-log p(x)`` in nats per image, and ``iwae_bits_per_dim``;
        ``active_units`` (dimensions whose posterior mean varies, variance >
        0.01); ``knn_accuracy`` of test μ voted by their ``knn_k`` nearest train μ
        (left out for unlabelled images).
    """
    z_mean, labels = z_means(latent), latent["label"].to_numpy()
    bound = iwae_log_likelihood(
        model,
        images[: params["iwae_images"]],
        params["iwae_samples"],
        seed=params["seed"],
    )
    nll = -float(np.mean(bound))
    metrics = {
        **model.evaluate_elbo(images),
        "iwae_nll": nll,
        "iwae_bits_per_dim": bits_per_dim(nll, model.image_shape),
        "active_units": active_units(z_mean),
    }
    if not (is_labelled(labels) and is_labelled(latent_train["label"].to_numpy())):
        logger.info("knn_accuracy: left out, the images have no class labels")
        return metrics
    return {
        **metrics,
        "knn_accuracy": knn_accuracy(
            z_mean,
            labels,
            z_means(latent_train),
            latent_train["label"].to_numpy(),
            params["knn_k"],
        ),
    }


def to_metric_history(metrics: dict[str, float]) -> dict[str, list[dict[str, float]]]:
    """Reshapes ``{name: value}`` into kedro-mlflow's metric-history format."""
    return {name: [{"value": value, "step": 0}] for name, value in metrics.items()}


def plot_reconstruction_examples(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    n: int,
) -> Figure:
    """The first ``n`` test images above their reconstructions (posterior mean)."""
    originals = unit_batch(images[:n])
    titles = list(class_names) if len(class_names) else [""]
    return plot_reconstructions(
        originals,
        model.reconstruct(originals),
        np.maximum(labels[:n], 0),
        titles,
    )


def plot_test_latents(latent: pd.DataFrame, class_names: Sequence[str]) -> Figure:
    """Test-set posterior means coloured by class."""
    scatter, _ = latent_view(latent, class_names)
    return plot_latent_scatter(scatter)


def plot_prior_draws(
    model: VAE, latent: pd.DataFrame, class_names: Sequence[str], n: int, seed: int
) -> Figure:
    """Images decoded from ``z ~ N(0, I)`` and where those ``z`` fall."""
    scatter, projection = latent_view(latent, class_names)
    z, images = model.sample_prior(n, seed=seed)
    return plot_prior_samples(images, projection.transform(z), scatter)


def plot_manifold(model: VAE, latent: pd.DataFrame, size: int) -> Figure:
    """Images decoded over a regular grid of the (projected) latent plane."""
    _, projection = latent_view(latent)
    coords_x, coords_y = latent_grid(size)
    images = model.decode(projection.inverse_transform(grid_points(coords_x, coords_y)))
    return plot_latent_manifold(images, coords_x, coords_y, projection.axis_labels)


def plot_path(
    model: VAE, latent: pd.DataFrame, class_names: Sequence[str], path: dict[str, Any]
) -> Figure:
    """A straight path through latent space and the images decoded along it."""
    scatter, projection = latent_view(latent, class_names)
    points = straight_path(
        np.asarray(path["start"], np.float32),
        np.asarray(path["end"], np.float32),
        path["steps"],
    )
    return plot_latent_path(
        projection.transform(points),
        model.decode(points),
        points,
        scatter,
        title=f"Straight path {path['start']} → {path['end']}",
    )


def build_latent_explorer(
    model: VAE,
    latent: pd.DataFrame,
    class_names: Sequence[str],
    explorer: dict[str, Any],
    morph: dict[str, Any],
) -> str:
    """The interactive explorer page over the test codes (one HTML document).

    Its morph is the ``morph`` pipeline's: ``morph.length`` along the class
    direction from the seeded start ``morph.seed`` (directions from these codes).
    Its walks need two classes: without, the page says so.
    """
    labels = latent["label"].to_numpy()
    if len(class_names) < 2 or len(np.unique(labels)) < 2:
        logger.info("latent explorer: left out, it needs two labelled classes")
        return (
            "<!doctype html><title>Latent explorer</title><p>The latent explorer "
            "walks between classes: these images have no class labels.</p>"
        )
    return build_explorer_html(
        model.decode,
        z_means(latent),
        labels,
        class_names,
        grid_size=explorer["grid_size"],
        walk_steps=explorer["walk_steps"],
        morph_length=morph["length"],
        seed=morph["seed"],
        title=f"Latent space of the test set ({len(latent)} images)",
    )
