"""Tests of the input pipeline, the callbacks and fit_vae on tiny data."""

import logging

import keras
import numpy as np
import pytest
from tiny_training import (
    METRICS,
    fit,
    strokes,
    tiny_model,
    variables_made_in_traced_functions,
)

from image_vae.vae import training
from image_vae.vae.training import (
    NonFiniteLossError,
    auto_precision,
    evenly_spaced,
    make_dataset,
)


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


def test_evenly_spaced_rows_reach_from_the_first_to_the_last_in_order():
    # Ten images of each of three classes, read class by class.
    images = np.repeat(np.arange(3), 10).reshape(30, 1, 1, 1)

    picked = evenly_spaced(images, 6).ravel().tolist()

    assert picked == [0, 0, 1, 1, 2, 2]
    assert evenly_spaced(images, 30) is images
    assert evenly_spaced(images, None) is images
    with pytest.raises(ValueError, match="count must be ≥ 1"):
        evenly_spaced(images, 0)


@pytest.mark.parametrize("latent_dim", [2, 16])
def test_training_lowers_the_loss_and_reports_every_metric(latent_dim, caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")

    history = fit(tiny_model(latent_dim), strokes(), epochs=4, validate=True)

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
    model = tiny_model()
    seen = {}

    class Compiled(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["jit_compile"] = self.model.jit_compile

    history = fit(
        model,
        strokes(),
        validate=True,
        jit_compile=True,
        steps_per_execution=2,
        callbacks=[Compiled()],
    )

    assert seen["jit_compile"] is True
    assert len(history["val_kl_loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]


def test_mixed_bfloat16_trains_a_twin_and_copies_its_weights_back():
    model = tiny_model()
    images = strokes()
    before = [w.copy() for w in model.get_weights()]

    history = fit(model, images, validate=True, precision="mixed_bfloat16")

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


def test_auto_precision_is_logged_before_training(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.training")
    monkeypatch.setattr(training, "auto_precision", lambda: "float32")

    class Started(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("training started")

    with pytest.raises(RuntimeError, match="training started"):
        fit(tiny_model(), strokes(), precision="auto", callbacks=[Started()])

    assert "training in float32 (precision: auto)" in caplog.messages


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="Received: precision='float16'"):
        fit(tiny_model(), strokes(), precision="float16")


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

    fit(tiny_model(), strokes(), epochs=2, schedule=schedule, callbacks=[Record()])

    assert len(rates) == 10
    np.testing.assert_allclose(
        [rates[0], rates[5], rates[9]], np.array([1.0, midway, last]) * 3e-3, rtol=1e-5
    )


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="Received: schedule='linear'"):
        fit(tiny_model(), strokes(), schedule="linear")


@pytest.mark.parametrize("beta_2", [1.0, 0.0])
def test_adam_beta_2_outside_zero_to_one_is_rejected(beta_2):
    with pytest.raises(ValueError, match=r"adam_beta_2 must be in \(0, 1\)"):
        fit(tiny_model(), strokes(), adam_beta_2=beta_2)


def test_adam_beta_2_reaches_the_optimizer():
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model.optimizer.beta_2)

    with variables_made_in_traced_functions() as made:
        fit(tiny_model(), strokes(), epochs=1, adam_beta_2=0.95, callbacks=[Record()])

    assert seen == [0.95] * 5
    # Adam's slots and the average exist before the step is traced: traced once.
    assert made == []


def test_same_seed_gives_the_same_history():
    images = strokes(200, seed=1)

    first = fit(tiny_model(), images, epochs=2)
    second = fit(tiny_model(), images, epochs=2)

    for name in METRICS:
        np.testing.assert_allclose(first[name], second[name], rtol=1e-5)


def test_absurd_learning_rate_raises_with_epoch_and_batch():
    with pytest.raises(NonFiniteLossError, match=r"epoch 1/3, at batch \d+") as error:
        fit(tiny_model(), strokes(), learning_rate=1e10)

    assert "lower learning rate" in str(error.value)
