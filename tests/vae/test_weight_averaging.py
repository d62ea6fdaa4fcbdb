"""Polyak averaging in fit_vae: the average at epoch ends, at the end, capped."""

import keras
import numpy as np
import pytest
from tiny_training import (
    Visited,
    assert_weights_equal,
    fit,
    moving_average,
    strokes,
    tiny_model,
)

from image_vae.vae import training


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = epoch + 1 == self.epochs


@pytest.mark.parametrize("stop_after", [None, 2])
def test_weight_averaging_gives_the_moving_average_at_epoch_ends_and_the_end(
    stop_after,
):
    visited = Visited()
    model = tiny_model()
    callbacks = [visited] if stop_after is None else [visited, _StopAfter(stop_after)]

    # 4 epochs of 5 steps: the momentum 0.9 is capped at 1 - 10/20 = 0.5.
    fit(model, strokes(), epochs=4, ema_momentum=0.9, callbacks=callbacks)

    epochs_run = stop_after or 4
    assert len(visited.steps) == 5 * epochs_run
    for epoch, at_end in enumerate(visited.epoch_ends, start=1):
        assert_weights_equal(at_end, moving_average(visited.steps[: 5 * epoch], 0.5))
    final = [v.numpy() for v in model.trainable_variables]
    assert_weights_equal(final, visited.epoch_ends[-1])
    # Averaging changed something: the model is not the last weights trained.
    assert not all(
        np.allclose(f, w, atol=1e-6)
        for f, w in zip(final, visited.steps[-1], strict=True)
    )


@pytest.mark.parametrize(
    ("momentum", "steps", "used"),
    [(0.98, 12_000, 0.98), (0.98, 100, 0.9), (0.98, 20, 0.5), (0.98, 10, 0.0)],
)
def test_averaging_spans_at_most_a_tenth_of_the_run(momentum, steps, used):
    assert training.ema_momentum_for(momentum, steps) == pytest.approx(used)


@pytest.mark.parametrize("momentum", [1.0, -0.1])
def test_momentum_outside_zero_to_one_is_rejected(momentum):
    with pytest.raises(ValueError, match=r"ema_momentum must be in \[0, 1\)"):
        fit(tiny_model(), strokes(), ema_momentum=momentum)
