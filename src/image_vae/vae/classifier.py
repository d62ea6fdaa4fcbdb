"""A small reference classifier: the judge of decoded images.

A plain functional Keras CNN (no custom classes, so nothing to register): its
penultimate layer, ``"features"``, gives the feature space of the Fréchet distance
and its softmax output the class probabilities of confidence and morph success.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from image_vae.vae.scaling import RowReader, row_batches, unit_batch
from image_vae.vae.training import EpochLogger

FEATURES_LAYER = "features"
_BATCH_SIZE = 512


def build_classifier(  # noqa: PLR0913  one argument per hyperparameter
    input_shape: Sequence[int],
    n_classes: int = 10,
    *,
    filters: Sequence[int] = (32, 64),
    dense_units: int = 128,
    dropout: float = 0.3,
    name: str = "reference_classifier",
) -> keras.Model:
    """Builds the CNN ``images -> class probabilities``.

    Each entry of ``filters`` adds a 3×3 ReLU convolution and a 2×2 max-pool; a
    ReLU dense layer named ``"features"`` and dropout follow, then a softmax.

    Args:
        input_shape: Image shape ``(H, W, C)``, values in ``[0, 1]``.
        n_classes: Number of classes, ≥ 2.
        filters: Filters of each conv layer.
        dense_units: Width of the ``"features"`` layer.
        dropout: Dropout rate before the output, in ``[0, 1)``.
        name: Model name.

    Returns:
        An uncompiled functional model returning ``(batch, n_classes)``
        probabilities.

    Raises:
        ValueError: An argument is out of range.
    """
    if n_classes < 2 or dense_units < 1 or not 0 <= dropout < 1 or not filters:
        raise ValueError(
            "Expected n_classes ≥ 2, dense_units ≥ 1, 0 ≤ dropout < 1 and at least "
            f"one conv layer. Received: n_classes={n_classes}, "
            f"dense_units={dense_units}, dropout={dropout}, filters={filters}"
        )
    images = keras.Input(shape=tuple(input_shape), name="images")
    features = images
    for index, n_filters in enumerate(filters):
        features = layers.Conv2D(
            n_filters, 3, padding="same", activation="relu", name=f"conv_{index}"
        )(features)
        features = layers.MaxPooling2D(2, name=f"pool_{index}")(features)
    features = layers.Flatten(name="flatten")(features)
    features = layers.Dense(dense_units, activation="relu", name=FEATURES_LAYER)(
        features
    )
    features = layers.Dropout(dropout, name="dropout")(features)
    probabilities = layers.Dense(n_classes, activation="softmax", name="probabilities")(
        features
    )
    return keras.Model(images, probabilities, name=name)


def fit_classifier(  # noqa: PLR0913  keyword-only training settings
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
) -> dict[str, list[float]]:
    """Compiles ``model`` with Adam and sparse cross-entropy and trains it in place.

    Args:
        model: From :func:`build_classifier`.
        images: ``(n, H, W, C)`` float images in ``[0, 1]``.
        labels: ``(n,)`` integer labels.
        epochs: Passes over the data.
        batch_size: Images per step.
        learning_rate: Adam's learning rate.
        seed: Seeds the initial shuffles and dropout (and weights, if the model
            is built after :func:`keras.utils.set_random_seed` with it).

    Returns:
        The history: ``loss`` and ``accuracy``, one float per epoch.
    """
    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        # A metric object, not "accuracy": its variables exist before the step
        # is traced, as Adam's (below); variables made in the first traced step
        # have TensorFlow trace it twice (~2 s a fit).
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    model.optimizer.build(model.trainable_variables)
    history = model.fit(
        _labelled_batches(images, labels, batch_size, seed),
        epochs=epochs,
        shuffle=False,  # the dataset reshuffles itself; Keras warns otherwise
        callbacks=[EpochLogger(len(images), what="reference classifier epoch")],
        verbose=0,
    )
    return {
        name: [float(v) for v in values] for name, values in history.history.items()
    }


def classify(
    model: keras.Model, images: np.ndarray, batch_size: int = _BATCH_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate-layer features and class probabilities of each image.

    Args:
        model: A classifier from :func:`build_classifier` (trained, or loaded).
        images: ``(n, H, W, C)`` images in ``[0, 1]``.
        batch_size: Images per forward pass.

    Returns:
        ``(features, probabilities)``: float32 arrays of shapes
        ``(n, dense_units)`` and ``(n, n_classes)``.
    """
    both = keras.Model(
        model.input, [model.get_layer(FEATURES_LAYER).output, model.output]
    )
    images = np.asarray(images)  # uint8 stays so: scaled a batch at a time
    if images.ndim != 4 or not len(images):
        raise ValueError(
            "images must be a non-empty array of shape (n, H, W, C). "
            f"Received: images.shape={images.shape}"
        )
    # Eager calls per batch: `predict` would trace a new function for every
    # wrapper model, and TensorFlow warns about retracing after a few.
    outputs = [
        [ops.convert_to_numpy(t) for t in both(unit_batch(images[i : i + batch_size]))]
        for i in range(0, len(images), batch_size)
    ]
    features, probabilities = zip(*outputs, strict=True)
    return (
        np.concatenate(features).astype(np.float32),
        np.concatenate(probabilities).astype(np.float32),
    )


def _labelled_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int
) -> tf.data.Dataset:
    """Shuffled ``(images, labels)`` batches gathered from the (uint8) array.

    Like the VAE's input pipeline: no float32 copy of the whole set, so a
    memory-mapped array streams from disk.
    """
    labels = np.asarray(labels, dtype=np.int64)
    shape = (None, *images.shape[1:])
    read = RowReader(images)

    def gather(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unit_batch(read(rows)), labels[rows]

    def batch(rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = tf.numpy_function(gather, [rows], (tf.float32, tf.int64))
        return tf.ensure_shape(x, shape), tf.ensure_shape(y, (None,))

    return row_batches(len(images), batch_size, batch, shuffle=True, seed=seed)
