"""The reference: the β-VAE written the way the reference notebook writes it.

Plain Keras, as in the Keras VAE example the notebook follows: the sampling
layer inside the encoder, a sigmoid decoder, a ``keras.Model`` subclass with a
hand-written ``GradientTape`` ``train_step``, compiled with ``optimizer="adam"``
(Adam, learning rate 1e-3) and trained by ``model.fit(x_train, batch_size=100)``
on the preprocessed NumPy arrays.

Architecture and loss are the project's defaults (``conf/base/
parameters_training.yml``): conv 32/64/128, 3×3, stride 2, ReLU; latent 2; the
mirrored decoder; loss = mean over images of the summed pixel BCE + KL (β = 1).
The notebook's own weighting (500 × pixel-mean BCE) is a different β and is not
used, so that both sides minimise the same objective.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops


class Sampling(layers.Layer):
    """z = z_mean + exp(z_log_var / 2) · ε, ε ~ N(0, I)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def build_encoder(
    input_shape: tuple[int, int, int], filters: list[int], latent_dim: int
) -> keras.Model:
    """Images → [z_mean, z_log_var, z]."""
    images = keras.Input(shape=input_shape)
    x = images
    for n_filters in filters:
        x = layers.Conv2D(n_filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(images, [z_mean, z_log_var, z], name="encoder")


def build_decoder(
    input_shape: tuple[int, int, int], filters: list[int], latent_dim: int
) -> keras.Model:
    """z → pixel probabilities of the input shape."""
    side = input_shape[0] // 2 ** len(filters)
    z = keras.Input(shape=(latent_dim,))
    x = layers.Dense(side * side * filters[-1], activation="relu")(z)
    x = layers.Reshape((side, side, filters[-1]))(x)
    for n_filters in reversed(filters):
        x = layers.Conv2DTranspose(
            n_filters, 3, strides=2, padding="same", activation="relu"
        )(x)
    images = layers.Conv2D(input_shape[-1], 3, padding="same", activation="sigmoid")(x)
    return keras.Model(z, images, name="decoder")


class ReferenceVAE(keras.Model):
    """The notebook's VAE: a hand-written GradientTape training step."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(
                    keras.losses.binary_crossentropy(data, reconstruction),
                    axis=(1, 2),
                )
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def build_reference(
    input_shape: tuple[int, int, int] = (32, 32, 1),
    filters: list[int] = (32, 64, 128),
    latent_dim: int = 2,
) -> ReferenceVAE:
    """The reference model, compiled as the notebook compiles it."""
    model = ReferenceVAE(
        build_encoder(input_shape, list(filters), latent_dim),
        build_decoder(input_shape, list(filters), latent_dim),
    )
    model.compile(optimizer="adam")
    return model
