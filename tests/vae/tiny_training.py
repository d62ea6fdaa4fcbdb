"""A tiny VAE trained by ``fit_vae`` on 16×16 bars: what the training tests share.

A fit of it takes seconds, nearly all of them Keras tracing the training step,
so each test fits as few times as what it checks needs, and validates only
when it looks at validation losses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import numpy as np
import tensorflow as tf

from image_vae.vae.model import VAE
from image_vae.vae.training import fit_vae

SHAPE = (16, 16, 1)
METRICS = ("loss", "reconstruction_loss", "kl_loss")


def strokes(n: int = 200, seed: int = 0) -> np.ndarray:
    """16×16 images of one bright horizontal or vertical bar each."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *SHAPE), dtype="float32")
    for image, vertical, where in zip(
        images, rng.integers(0, 2, n), rng.integers(2, 14, n), strict=True
    ):
        if vertical:
            image[2:14, where - 1 : where + 1] = 1.0
        else:
            image[where - 1 : where + 1, 2:14] = 1.0
    return images


def tiny_model(latent_dim: int = 2) -> VAE:
    keras.utils.set_random_seed(0)
    return VAE(SHAPE, latent_dim, filters=(8, 16), seed=0)


def fit(model: VAE, images: np.ndarray, *, validate: bool = False, **kwargs):
    """``fit_vae`` on the first 160 images (5 steps of 32 an epoch), 3 epochs
    unless told; with ``validate``, the rest are the validation images."""
    settings = {"epochs": 3, "batch_size": 32, "learning_rate": 3e-3, "seed": 0}
    validation = images[160:] if validate else None
    return fit_vae(model, images[:160], validation, **{**settings, **kwargs})


class Visited(keras.callbacks.Callback):
    """Records the weights being trained after every step, and at epoch ends."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[list[np.ndarray]] = []
        self.epoch_ends: list[list[np.ndarray]] = []
        self.at_start: list[np.ndarray] | None = None

    def _weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.model.trainable_variables]

    def on_train_begin(self, logs=None):
        self.at_start = self._weights()

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(self._weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(self._weights())


class Interrupt(keras.callbacks.Callback):
    """Stands for a killed process: fails right after epoch ``after`` ends."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise RuntimeError("killed")


def moving_average(steps, momentum, start=None):
    """Keras' average: the first step's weights, then momentum-weighted."""
    average = start if start is not None else steps[0]
    for weights in steps if start is not None else steps[1:]:
        average = [
            momentum * a + (1 - momentum) * w
            for a, w in zip(average, weights, strict=True)
        ]
    return average


def assert_weights_equal(got, want):
    for got_one, want_one in zip(got, want, strict=True):
        np.testing.assert_allclose(got_one, want_one, rtol=1e-5, atol=1e-6)


@contextmanager
def variables_made_in_traced_functions() -> Iterator[list[str]]:
    """Names of the variables created while TensorFlow traces a function.

    A function that creates variables when first traced is traced a second time.
    """
    made: list[str] = []

    def record(next_creator, **kwargs):
        if tf.inside_function():
            made.append(kwargs.get("name") or "?")
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        yield made
