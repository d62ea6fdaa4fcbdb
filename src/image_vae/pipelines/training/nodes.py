"""Nodes of the ``training`` pipeline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from image_vae.parameters import TrainingParams
from image_vae.vae import VAE, fit_vae
from image_vae.vae.distribution import distribution_scope
from image_vae.vae.tables import history_frame
from image_vae.vae.training import evenly_spaced


def checkpoint_path(params: TrainingParams, train_images: np.ndarray) -> Path:
    """A folder unique to this configuration and training data.

    A rerun of the same command finds (and resumes) its own backup; any change of
    hyperparameters or data starts afresh instead of resuming a different model.
    Where it trains (``distribution``, ``devices``) and what it validates on
    (``validation_images``) are not part of the model.
    """
    where = {"checkpoint_dir", "distribution", "devices", "validation_images"}
    fingerprint = hashlib.sha256(
        json.dumps(params.model_dump(exclude=where), sort_keys=True).encode()
    )
    fingerprint.update(str(train_images.shape).encode())
    fingerprint.update(
        np.ascontiguousarray(train_images[:: max(1, len(train_images) // 256)])
    )
    return Path(params.checkpoint_dir) / fingerprint.hexdigest()[:16]


def live_callbacks() -> list[keras.callbacks.Callback]:
    """MLflow's Keras callback when a run is active: losses stream per epoch.

    Its ``on_test_end`` is silenced: it would log ``validation_*`` duplicates at
    step 0 after every epoch, while ``val_*`` already arrive with step = epoch.
    """
    import mlflow

    if mlflow.active_run() is None:
        return []

    class EpochMetricsCallback(mlflow.keras.MlflowCallback):
        def on_test_end(self, logs=None):
            pass

    return [EpochMetricsCallback()]


def train_model(
    train_images: np.ndarray, test_images: np.ndarray, params: dict[str, Any]
) -> tuple[VAE, pd.DataFrame]:
    """Builds the VAE from ``params`` and trains it, test images as validation.

    Args:
        train_images: ``(n, H, W, C)`` uint8 (memory-mapped), or float32 in [0, 1].
        test_images: ``(m, H, W, C)`` likewise; ``validation_images`` of them,
            evenly spaced, are validated after each epoch.
        params: The ``training`` parameters.

    Returns:
        The trained model and its history, one row per epoch.
    """
    config = TrainingParams.model_validate(params)
    keras.utils.set_random_seed(config.seed)  # initial weights are seeded too
    # Under a strategy, the model's variables are made, and it trains, in its scope.
    with distribution_scope(config.distribution, config.devices):
        model = VAE(
            input_shape=train_images.shape[1:],
            latent_dim=config.latent_dim,
            filters=config.filters,
            beta=config.beta,
            reconstruction_loss=config.reconstruction_loss,
            seed=config.seed,
        )
        history = fit_vae(
            model,
            train_images,
            evenly_spaced(test_images, config.validation_images),
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            schedule=config.learning_rate_schedule,
            ema_momentum=config.ema_momentum,
            adam_beta_2=config.adam_beta_2,
            seed=config.seed,
            callbacks=live_callbacks(),
            backup_dir=checkpoint_path(config, train_images),
            precision=config.precision,
        )
    return model, history_frame(history)


def publish_model(model: VAE) -> VAE:
    """Passes the saved model on, to be logged as an MLflow model."""
    return model
