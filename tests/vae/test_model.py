"""Tests of the VAE model: loss wiring, NumPy helpers and saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from image_vae.vae.model import VAE

SHAPE = (8, 8, 1)
FILTERS = (4, 8)


def _images(n: int = 40, seed: int = 0) -> np.ndarray:
    """Binary-ish 8×8 images: a random bright rectangle on a dark background."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *SHAPE), dtype="float32")
    for image, (top, left) in zip(images, rng.integers(0, 5, (n, 2)), strict=True):
        image[top : top + 3, left : left + 4] = 1.0
    return images


def _model(**kwargs) -> VAE:
    keras.utils.set_random_seed(0)
    return VAE(SHAPE, kwargs.pop("latent_dim", 2), filters=FILTERS, seed=0, **kwargs)


@pytest.mark.parametrize(("beta", "head_has_gradient"), [(0.0, False), (1.0, True)])
def test_kl_gradient_reaches_the_log_variance_head_only_when_beta_is_positive(
    monkeypatch, beta, head_has_gradient
):
    model = _model(beta=beta)
    # Decode the mean, so that the log-variance head can only get a gradient
    # through the β·KL term.
    monkeypatch.setattr(model.sampler, "call", lambda z_mean, z_log_var: z_mean)
    head = model.encoder.get_layer("z_log_var").kernel
    mean_head = model.encoder.get_layer("z_mean").kernel

    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=_images(8), training=True)
    grad_log_var, grad_mean = tape.gradient(loss, [head, mean_head])

    assert np.any(grad_mean.numpy() != 0)
    assert np.any(grad_log_var.numpy() != 0) == head_has_gradient


def test_evaluate_reports_loss_as_reconstruction_plus_beta_kl():
    model = _model(beta=4.0)
    model.compile(optimizer="adam")

    metrics = model.evaluate(_images(), batch_size=16, verbose=0, return_dict=True)

    assert set(metrics) == {"loss", "reconstruction_loss", "kl_loss"}
    assert metrics["kl_loss"] > 0
    assert metrics["loss"] == pytest.approx(
        metrics["reconstruction_loss"] + 4.0 * metrics["kl_loss"], rel=1e-5
    )


def test_mixed_bfloat16_model_computes_the_loss_in_float32():
    reference = _model()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed = _model()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    mixed.set_weights(reference.get_weights())
    x = _images(16)

    loss = mixed.compute_loss(x=x, training=True)
    per_image = mixed.per_image_losses(x)

    assert mixed.encoder.compute_dtype == "bfloat16"
    assert mixed.sampler.compute_dtype == "float32"
    assert loss.dtype == "float32"
    expected = reference.per_image_losses(x)
    for name in ("loss", "negative_elbo"):
        assert per_image[name].dtype == np.float32
        np.testing.assert_allclose(per_image[name], expected[name], rtol=0.02)


def test_call_decodes_the_mean_deterministically_unless_asked_to_sample():
    model = _model()
    x = _images(6)

    inference = keras.ops.convert_to_numpy(model(x))
    again = keras.ops.convert_to_numpy(model(x, training=False))
    sampled = keras.ops.convert_to_numpy(model(x, sample_posterior=True))

    assert inference.shape == x.shape
    assert inference.min() >= 0 and inference.max() <= 1
    np.testing.assert_array_equal(inference, again)
    np.testing.assert_allclose(inference, model.reconstruct(x), atol=1e-6)
    assert not np.allclose(inference, sampled)


def test_numpy_helpers_work_in_uneven_batches():
    model = _model(latent_dim=3)
    x = _images(10)

    z_mean, z_log_var = model.encode(x, batch_size=4)
    images = model.decode(z_mean, batch_size=3)
    reconstructions = model.reconstruct(x, batch_size=4)

    assert z_mean.shape == z_log_var.shape == (10, 3)
    assert z_mean.dtype == np.float32
    assert images.shape == reconstructions.shape == x.shape
    assert images.min() >= 0 and images.max() <= 1
    np.testing.assert_allclose(images, reconstructions, atol=1e-6)
    whole, _ = model.encode(x, batch_size=64)
    np.testing.assert_allclose(z_mean, whole, atol=1e-6)


def test_short_calls_trace_nothing_and_longer_ones_each_network_once():
    # Every batch length traced predict_on_batch's function anew; TensorFlow
    # warned about excessive retracing in a default run. A call shorter than a
    # batch runs eagerly: nothing to trace, no padding to compute.
    model = _model()
    codes = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    short = [model.decode(codes[:n], batch_size=16) for n in range(1, 10)]
    model.encode(_images(9), batch_size=16)

    assert model.decoder.predict_function is None
    assert model.encoder.predict_function is None

    longer = [model.decode(codes[:n], batch_size=16) for n in (16, 23, 40)]
    model.encode(_images(23), batch_size=16)  # a full batch, then 7 rows

    decoder = model.inference_decoder()  # what the compiled decodes ran
    assert decoder.predict_function.experimental_get_tracing_count() == 1
    assert model.encoder.predict_function.experimental_get_tracing_count() == 1
    for n, images in enumerate(short, start=1):
        assert images.shape == (n, *SHAPE)
        # Eager or compiled, padded or not: the same rows.
        np.testing.assert_allclose(images, longer[-1][:n], atol=1e-6)
    np.testing.assert_allclose(longer[0], longer[-1][:16], atol=1e-6)


def test_compiled_decodes_run_a_fast_twin_with_the_current_weights_never_saved(
    tmp_path,
):
    import zipfile

    from image_vae.vae.networks import FastConv2DTranspose

    model = _model()
    codes = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    n_weights = len(model.weights)

    first = model.decode(codes, batch_size=16)
    model.decoder.set_weights([w * 0.5 for w in model.decoder.get_weights()])
    second = model.decode(codes, batch_size=16)
    model.save(tmp_path / "vae.keras")

    twin = model.inference_decoder()
    assert twin is not model.decoder
    assert any(isinstance(layer, FastConv2DTranspose) for layer in twin.layers)
    assert model.inference_decoder(compiled=False) is model.decoder
    stock = keras.ops.convert_to_numpy(keras.ops.sigmoid(model.decoder(codes)))
    np.testing.assert_allclose(second, stock, atol=1e-6)  # not the old weights'
    assert np.abs(first - second).max() > 1e-3
    assert len(model.weights) == n_weights  # Keras does not track the twin
    config = zipfile.ZipFile(tmp_path / "vae.keras").read("config.json").decode()
    assert "Fast" not in config


def test_sample_prior_is_repeatable_for_a_seed():
    model = _model()

    z, images = model.sample_prior(5, seed=3)
    z_again, images_again = model.sample_prior(5, seed=3)
    z_other, _ = model.sample_prior(5, seed=4)

    assert z.shape == (5, 2) and images.shape == (5, *SHAPE)
    np.testing.assert_array_equal(z, z_again)
    np.testing.assert_array_equal(images, images_again)
    assert not np.allclose(z, z_other)


def test_evaluate_elbo_combines_the_per_image_terms():
    model = _model(beta=2.0)
    x = _images(12)

    per_image = model.per_image_losses(x, batch_size=5, seed=1)
    summary = model.evaluate_elbo(x, batch_size=5, seed=1)

    assert all(values.shape == (12,) for values in per_image.values())
    # With BCE the model's own term is the Bernoulli likelihood.
    np.testing.assert_allclose(
        per_image["negative_elbo"],
        per_image["reconstruction_loss"] + per_image["kl_loss"],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        per_image["loss"],
        per_image["reconstruction_loss"] + 2.0 * per_image["kl_loss"],
        rtol=1e-6,
    )
    expected_mse = np.mean((model.reconstruct(x) - x) ** 2)
    assert summary["mse_per_pixel"] == pytest.approx(expected_mse, rel=1e-5)
    assert summary["negative_elbo"] == pytest.approx(
        float(np.mean(per_image["negative_elbo"])), rel=1e-6
    )
    assert model.evaluate_elbo(x, seed=1) == pytest.approx(summary, rel=1e-5)


def test_mse_model_still_reports_the_bernoulli_negative_elbo():
    model = _model(reconstruction_loss="mse")

    per_image = model.per_image_losses(_images(6))

    # Squared errors of probabilities are at most one per pixel.
    assert np.all(per_image["reconstruction_loss"] <= np.prod(SHAPE))
    assert np.all(per_image["negative_elbo"] > per_image["reconstruction_loss"])


def test_save_and_load_give_identical_outputs(tmp_path):
    model = _model(latent_dim=3, beta=0.5, reconstruction_loss="mse")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(_images(), epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "vae.keras"

    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode, no custom_objects

    x = _images(7, seed=1)
    assert isinstance(loaded, VAE)
    assert loaded.get_config() == model.get_config()
    for original, restored in zip(model.encode(x), loaded.encode(x), strict=True):
        np.testing.assert_array_equal(original, restored)
    z = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    np.testing.assert_array_equal(model.decode(z), loaded.decode(z))


@pytest.mark.parametrize(
    ("kwargs", "received"),
    [
        ({"beta": -1.0}, "Received: beta=-1.0"),
        ({"reconstruction_loss": "l1"}, "Received: reconstruction_loss='l1'"),
        ({"input_shape": (28, 28, 1)}, "pad by 2 on each side to get 32"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, received):
    with pytest.raises(ValueError, match=received):
        VAE(**{"input_shape": SHAPE, "filters": (4, 8, 8), **kwargs})


def test_helpers_reject_images_of_the_wrong_shape():
    model = _model()
    with pytest.raises(ValueError, match=r"Received: x.shape=\(2, 16, 16, 1\)"):
        model.encode(np.zeros((2, 16, 16, 1)))
    with pytest.raises(ValueError, match=r"Received: z.shape=\(2, 3\)"):
        model.decode(np.zeros((2, 3)))


_LOAD_IN_A_FRESH_PROCESS = """
import json, sys, zipfile
import keras
import image_vae.vae  # registers VAE and Sampling, nothing else

path, encoder_path = sys.argv[1:3]
model = keras.saving.load_model(path, safe_mode=True)
encoder = keras.saving.load_model(encoder_path, safe_mode=True)
config = zipfile.ZipFile(path).read("config.json").decode()
print(json.dumps({
    "layers": sorted({type(l).__module__ + "." + type(l).__name__
                      for net in (model.encoder, model.decoder) for l in net.layers}),
    "encoder": type(encoder).__module__ + "." + type(encoder).__name__,
    "config_names_fast": "Fast" in config,
}))
"""


@pytest.mark.slow  # a fresh Python process imports TensorFlow
def test_a_model_trained_by_fit_vae_saves_stock_keras_layers(tmp_path):
    import json
    import subprocess
    import sys

    from image_vae.vae.training import fit_vae

    model = _model()
    fit_vae(model, _images(), None, epochs=1, batch_size=16, learning_rate=1e-3, seed=0)
    model.save(tmp_path / "vae.keras")
    model.encoder.save(tmp_path / "encoder.keras")

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOAD_IN_A_FRESH_PROCESS,
            str(tmp_path / "vae.keras"),
            str(tmp_path / "encoder.keras"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])

    assert found["config_names_fast"] is False
    assert found["encoder"] == "keras.src.models.functional.Functional"
    assert all(name.startswith("keras.") for name in found["layers"]), found["layers"]
    assert any(name.endswith(".Conv2DTranspose") for name in found["layers"])
