"""Tests of the input pipeline, the callbacks and fit_vae on tiny data."""

import logging

import keras
import numpy as np
import pytest

from image_vae.vae import training
from image_vae.vae.model import VAE
from image_vae.vae.training import (
    NonFiniteLossError,
    auto_precision,
    fit_vae,
    make_dataset,
)

SHAPE = (16, 16, 1)
METRICS = ("loss", "reconstruction_loss", "kl_loss")


def _strokes(n: int = 200, seed: int = 0) -> np.ndarray:
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


def _model(latent_dim: int = 2) -> VAE:
    keras.utils.set_random_seed(0)
    return VAE(SHAPE, latent_dim, filters=(8, 16), seed=0)


def _fit(model, images, **kwargs):
    settings = {"epochs": 3, "batch_size": 32, "learning_rate": 3e-3, "seed": 0}
    return fit_vae(model, images[:160], images[160:], **{**settings, **kwargs})


def test_make_dataset_batches_every_image_once_in_a_seeded_order():
    images = np.arange(10, dtype="float32").reshape(10, 1, 1, 1)

    def epoch(dataset):
        return [batch.numpy().ravel().tolist() for batch in dataset]

    shuffled = make_dataset(images, batch_size=4, shuffle=True, seed=1)
    first, second = epoch(shuffled), epoch(shuffled)
    same_seed = epoch(make_dataset(images, batch_size=4, shuffle=True, seed=1))
    ordered = epoch(make_dataset(images, batch_size=4, shuffle=False))

    assert [len(batch) for batch in first] == [4, 4, 2]
    assert sorted(value for batch in first for value in batch) == list(range(10))
    assert first != second  # reshuffled every epoch
    assert same_seed == first
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_make_dataset_reads_the_array_itself_without_a_copy():
    images = np.zeros((4, 2, 2, 1), dtype="float32")
    dataset = make_dataset(images, batch_size=4, shuffle=False)

    images[:] = 1.0

    assert next(iter(dataset)).numpy().min() == 1.0


def test_make_dataset_rejects_images_without_a_channel_axis():
    with pytest.raises(ValueError, match=r"Received: images.shape=\(5, 4, 4\)"):
        make_dataset(np.zeros((5, 4, 4)), batch_size=2)


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_training_lowers_the_loss_and_reports_every_metric(latent_dim, caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")

    history = _fit(_model(latent_dim), _strokes(), epochs=4)

    assert set(history) == {*METRICS, *(f"val_{name}" for name in METRICS)}
    assert all(len(values) == 4 for values in history.values())
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    epoch_lines = [
        r.getMessage() for r in caplog.records if r.name == "image_vae.vae.training"
    ]
    assert len(epoch_lines) == 4
    assert epoch_lines[0].startswith("epoch 1/4 loss=")
    assert "val_kl_loss=" in epoch_lines[-1] and "images/s" in epoch_lines[-1]


@pytest.mark.slow  # XLA compiles the step: seconds on a CPU
def test_xla_and_several_steps_per_execution_train_too():
    # On a GPU, jit_compile="auto" means XLA: check that path on the CPU.
    model = _model()
    seen = {}

    class Compiled(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["jit_compile"] = self.model.jit_compile

    history = _fit(
        model,
        _strokes(),
        jit_compile=True,
        steps_per_execution=2,
        callbacks=[Compiled()],
    )

    assert seen["jit_compile"] is True
    assert len(history["val_kl_loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]


def test_mixed_bfloat16_trains_a_twin_and_copies_its_weights_back():
    model = _model()
    images = _strokes()
    before = [w.copy() for w in model.get_weights()]

    history = _fit(model, images, precision="mixed_bfloat16")

    # The model keeps its float32 policy: saved and evaluated as before.
    assert model.encoder.compute_dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert not any(
        np.array_equal(old, new)
        for old, new in zip(before, model.get_weights(), strict=True)
    )
    assert history["loss"][-1] < history["loss"][0]
    # The weights copied back are the trained ones: the model's own loss is
    # close to the last epoch's validation loss.
    assert model.evaluate_elbo(images[160:])["loss"] == pytest.approx(
        history["val_loss"][-1], rel=0.1
    )


@pytest.mark.parametrize(
    ("flags", "gpus", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, [], "mixed_bfloat16"),
        ({"avx2", "amx_bf16"}, [], "mixed_bfloat16"),
        ({"avx2", "avx512f"}, [], "float32"),
        ({"avx512_bf16"}, ["GPU:0"], "float32"),
    ],
)
def test_auto_precision_is_bfloat16_on_a_cpu_with_bfloat16_instructions(
    monkeypatch, flags, gpus, expected
):
    monkeypatch.setattr(training, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(
        training.tf.config, "list_physical_devices", lambda kind=None: gpus
    )
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)

    assert auto_precision() == expected


@pytest.mark.parametrize(
    ("cap", "expected"),
    [("avx2", "float32"), ("AVX512_CORE", "float32"), ("ALL", "mixed_bfloat16")],
)
def test_auto_precision_is_float32_when_onednn_is_capped_below_bfloat16(
    monkeypatch, cap, expected
):
    monkeypatch.setattr(training, "_cpu_flags", lambda: {"avx2", "avx512_bf16"})
    monkeypatch.setattr(
        training.tf.config, "list_physical_devices", lambda kind=None: []
    )
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)

    assert auto_precision() == expected


def test_auto_precision_is_logged(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")
    monkeypatch.setattr(training, "auto_precision", lambda: "float32")

    _fit(_model(), _strokes(), epochs=1, precision="auto")

    assert "training in float32 (precision: auto)" in caplog.messages


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="Received: precision='float16'"):
        _fit(_model(), _strokes(), precision="float16")


@pytest.mark.parametrize(
    ("schedule", "midway", "last"),
    # 160 images in batches of 32: 5 steps per epoch, 10 in all. The cosine
    # curve is at half its start after 5 steps, and at 1 - cos(π/10) of it
    # before the last step.
    [("constant", 1.0, 1.0), ("cosine", 0.5, 0.5 * (1 - np.cos(np.pi / 10)))],
)
def test_learning_rate_follows_the_schedule(schedule, midway, last):
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            optimizer = self.model.optimizer
            rates.append(float(optimizer.learning_rate))

    _fit(_model(), _strokes(), epochs=2, schedule=schedule, callbacks=[Record()])

    assert len(rates) == 10
    np.testing.assert_allclose(
        [rates[0], rates[5], rates[9]], np.array([1.0, midway, last]) * 3e-3, rtol=1e-5
    )


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="Received: schedule='linear'"):
        _fit(_model(), _strokes(), schedule="linear")


class _Visited(keras.callbacks.Callback):
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


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = epoch + 1 == self.epochs


def _moving_average(steps, momentum, start=None):
    """Keras' average: the first step's weights, then momentum-weighted."""
    average = start if start is not None else steps[0]
    for weights in steps if start is not None else steps[1:]:
        average = [
            momentum * a + (1 - momentum) * w
            for a, w in zip(average, weights, strict=True)
        ]
    return average


def _assert_weights_equal(got, want):
    for got_one, want_one in zip(got, want, strict=True):
        np.testing.assert_allclose(got_one, want_one, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stop_after", [None, 2])
def test_weight_averaging_gives_the_moving_average_at_epoch_ends_and_the_end(
    stop_after,
):
    visited = _Visited()
    model = _model()
    callbacks = [visited] if stop_after is None else [visited, _StopAfter(stop_after)]

    # 4 epochs of 5 steps: the momentum 0.9 is capped at 1 - 10/20 = 0.5.
    _fit(model, _strokes(), epochs=4, ema_momentum=0.9, callbacks=callbacks)

    epochs_run = stop_after or 4
    assert len(visited.steps) == 5 * epochs_run
    for epoch, at_end in enumerate(visited.epoch_ends, start=1):
        _assert_weights_equal(at_end, _moving_average(visited.steps[: 5 * epoch], 0.5))
    final = [v.numpy() for v in model.trainable_variables]
    _assert_weights_equal(final, visited.epoch_ends[-1])
    # Averaging changed something: the model is not the last weights trained.
    assert not all(
        np.allclose(f, w, atol=1e-6)
        for f, w in zip(final, visited.steps[-1], strict=True)
    )


def test_a_resumed_run_trains_on_from_its_weights_and_average(tmp_path):
    backup_dir = tmp_path / "backup"
    images = _strokes()
    first = _Visited()
    with pytest.raises(RuntimeError, match="killed"):
        _fit(
            _model(),
            images,
            epochs=4,
            ema_momentum=0.9,
            backup_dir=backup_dir,
            callbacks=[first, _Interrupt(2)],
        )
    second = _Visited()
    model = _model()

    _fit(
        model,
        images,
        epochs=4,
        ema_momentum=0.9,
        backup_dir=backup_dir,
        callbacks=[second],
    )

    # The backup holds the weights being trained, not their average ...
    _assert_weights_equal(second.at_start, first.steps[-1])
    # ... and the average, which goes on from where it was.
    want = _moving_average(second.steps, 0.5, start=first.epoch_ends[-1])
    _assert_weights_equal([v.numpy() for v in model.trainable_variables], want)


@pytest.mark.parametrize(
    ("momentum", "steps", "used"),
    [(0.98, 12_000, 0.98), (0.98, 100, 0.9), (0.98, 20, 0.5), (0.98, 10, 0.0)],
)
def test_averaging_spans_at_most_a_tenth_of_the_run(momentum, steps, used):
    assert training.ema_momentum_for(momentum, steps) == pytest.approx(used)


@pytest.mark.parametrize("momentum", [1.0, -0.1])
def test_momentum_outside_zero_to_one_is_rejected(momentum):
    with pytest.raises(ValueError, match=r"ema_momentum must be in \[0, 1\)"):
        _fit(_model(), _strokes(), ema_momentum=momentum)


@pytest.mark.parametrize("beta_2", [1.0, 0.0])
def test_adam_beta_2_outside_zero_to_one_is_rejected(beta_2):
    with pytest.raises(ValueError, match=r"adam_beta_2 must be in \(0, 1\)"):
        _fit(_model(), _strokes(), adam_beta_2=beta_2)


def test_adam_beta_2_reaches_the_optimizer():
    images = _strokes(200, seed=1)
    runs = [
        _fit(_model(), images, epochs=2, adam_beta_2=beta_2)["loss"]
        for beta_2 in (0.9, 0.999)
    ]

    assert runs[0] != pytest.approx(runs[1], rel=1e-4)


def test_same_seed_gives_the_same_history():
    images = _strokes(200, seed=1)

    first = _fit(_model(), images, epochs=2)
    second = _fit(_model(), images, epochs=2)

    for name in METRICS:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-5)


def test_absurd_learning_rate_raises_with_epoch_and_batch():
    with pytest.raises(NonFiniteLossError, match=r"epoch 1/3, at batch \d+") as error:
        _fit(_model(), _strokes(), learning_rate=1e10)

    assert "lower learning rate" in str(error.value)


class _Interrupt(keras.callbacks.Callback):
    """Stands for a killed process: fails right after epoch ``after`` ends."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise RuntimeError("killed")


def test_backup_resumes_from_the_last_completed_epoch(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")
    backup_dir = tmp_path / "backup"
    images = _strokes()

    with pytest.raises(RuntimeError, match="killed"):
        _fit(
            _model(), images, epochs=4, backup_dir=backup_dir, callbacks=[_Interrupt(2)]
        )
    assert (backup_dir / "training_metadata.json").exists()
    untrained = _model()
    fresh_loss = untrained.evaluate_elbo(images)["loss"]

    history = _fit(untrained, images, epochs=4, backup_dir=backup_dir)

    # The whole history, as an uninterrupted run would return it: the two epochs
    # from before the interruption come from the backup.
    assert all(len(values) == 4 for values in history.values())
    # The restored weights were trained for two epochs already; a fresh model
    # would start near fresh_loss.
    assert history["loss"][2] < 0.95 * fresh_loss
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("resuming from epoch 3/4") for m in messages)
    assert any(m.startswith("epoch 4/4 ") for m in messages)
    assert not backup_dir.exists()  # deleted once training completed
