"""A killed training resumes from its backup: weights, average and history."""

import logging

import pytest
from tiny_training import (
    Interrupt,
    Visited,
    assert_weights_equal,
    fit,
    moving_average,
    strokes,
    tiny_model,
)


def test_an_interrupted_run_resumes_from_its_last_epoch_weights_and_average(
    tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")
    backup_dir = tmp_path / "backup"
    images = strokes()
    settings = {"epochs": 4, "ema_momentum": 0.9, "backup_dir": backup_dir}
    first = Visited()
    with pytest.raises(RuntimeError, match="killed"):
        fit(tiny_model(), images, **settings, callbacks=[first, Interrupt(2)])
    assert (backup_dir / "training_metadata.json").exists()
    second = Visited()
    model = tiny_model()
    fresh_loss = model.evaluate_elbo(images)["loss"]

    history = fit(model, images, **settings, callbacks=[second])

    # The whole history, as an uninterrupted run would return it: the two epochs
    # from before the interruption come from the backup.
    assert all(len(values) == 4 for values in history.values())
    # The restored weights were trained for two epochs already; a fresh model
    # would start near fresh_loss.
    assert history["loss"][2] < 0.95 * fresh_loss
    # The backup holds the weights being trained, not their average ...
    assert_weights_equal(second.at_start, first.steps[-1])
    # ... and the average, which goes on from where it was (4 epochs of 5
    # steps: the momentum 0.9 is capped at 1 - 10/20 = 0.5).
    want = moving_average(second.steps, 0.5, start=first.epoch_ends[-1])
    assert_weights_equal([v.numpy() for v in model.trainable_variables], want)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("resuming from epoch 3/4") for m in messages)
    assert any(m.startswith("epoch 4/4 ") for m in messages)
    assert not backup_dir.exists()  # deleted once training completed
