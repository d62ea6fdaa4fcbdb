"""Tests of the encoder, decoder and sampling layer on tiny shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from image_vae.vae import networks
from image_vae.vae.networks import (
    Sampling,
    build_decoder,
    build_encoder,
    check_input_shape,
)


@pytest.mark.parametrize(
    ("shape", "filters", "latent_dim"),
    [((8, 8, 1), (4, 8), 2), ((16, 16, 3), (4, 8, 8), 16), ((16, 8, 1), (4,), 1)],
)
def test_encoder_and_decoder_shapes_round_trip(shape, filters, latent_dim):
    encoder = build_encoder(shape, filters, latent_dim)
    decoder = build_decoder(shape, filters, latent_dim)
    x = np.random.default_rng(0).random((5, *shape)).astype("float32")

    z_mean, z_log_var = encoder(x)
    logits = decoder(z_mean)

    assert tuple(z_mean.shape) == (5, latent_dim)
    assert tuple(z_log_var.shape) == (5, latent_dim)
    assert tuple(logits.shape) == (5, *shape)


def test_encoder_halves_the_side_once_per_filter():
    encoder = build_encoder((16, 16, 1), (4, 8), 2)

    conv_shapes = [
        layer.output.shape[1:] for layer in encoder.layers if "conv" in layer.name
    ]

    assert conv_shapes == [(8, 8, 4), (4, 4, 8)]


def test_side_not_divisible_says_which_padding_fixes_it():
    with pytest.raises(ValueError, match="Received") as error:
        check_input_shape((28, 28, 1), 3)

    message = str(error.value)
    assert message.startswith(
        "image side 28 is not divisible by 2^3 = 8 (3 conv layers); "
        "pad by 2 on each side to get 32"
    )
    assert message.endswith("Received: input_shape=(28, 28, 1)")


def test_odd_padding_is_split_between_the_two_sides():
    with pytest.raises(ValueError, match="pad by 1 and 2 on the two sides to get 32"):
        check_input_shape((29, 32, 1), 3)


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28, 1), (28, 28.0, 1), None])
def test_shape_that_is_not_height_width_channels_is_rejected(shape):
    with pytest.raises(ValueError, match=r"\(height, width, channels\).*Received"):
        check_input_shape(shape, 2)


def test_check_input_shape_accepts_numpy_ints():
    assert check_input_shape(np.array([16, 16, 1]), 4) == (16, 16, 1)


def test_builders_reject_empty_filters_and_zero_dimensions():
    with pytest.raises(ValueError, match=r"filters.*Received: filters=\(\)"):
        build_encoder((8, 8, 1), (), 2)
    with pytest.raises(ValueError, match="Received: latent_dim=0"):
        build_decoder((8, 8, 1), (4,), 0)


def test_sampling_has_the_posterior_mean_and_variance():
    n = 20_000
    mean = np.array([1.5, -2.0, 0.0], dtype="float32")
    log_var = np.log(np.array([0.25, 4.0, 1.0], dtype="float32"))
    z_mean = np.tile(mean, (n, 1))
    z_log_var = np.tile(log_var, (n, 1))

    z = keras.ops.convert_to_numpy(Sampling(seed=1)(z_mean, z_log_var))

    assert z.shape == (n, 3)
    # Standard errors of the mean are sd/sqrt(n) ≤ 0.015; of the variance,
    # var·sqrt(2/n) ≤ 0.04: these bounds are ~5 standard errors.
    np.testing.assert_allclose(z.mean(axis=0), mean, atol=0.07)
    np.testing.assert_allclose(z.var(axis=0), np.exp(log_var), rtol=0.05)


def test_sampling_is_seedable_and_draws_fresh_noise_each_call():
    z_mean = np.zeros((4, 2), dtype="float32")
    first, second = Sampling(seed=3), Sampling(seed=3)

    a = keras.ops.convert_to_numpy(first(z_mean, z_mean))
    b = keras.ops.convert_to_numpy(second(z_mean, z_mean))
    c = keras.ops.convert_to_numpy(first(z_mean, z_mean))

    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_gradients_reach_mean_and_log_variance_through_sampling():
    z_mean = tf.Variable(np.full((8, 2), 0.5, dtype="float32"))
    z_log_var = tf.Variable(np.full((8, 2), -1.0, dtype="float32"))

    with tf.GradientTape() as tape:
        z = Sampling(seed=0)(z_mean, z_log_var)
        objective = tf.reduce_sum(tf.square(z))
    grad_mean, grad_log_var = tape.gradient(objective, [z_mean, z_log_var])

    assert grad_mean is not None and grad_log_var is not None
    assert np.all(np.abs(grad_mean.numpy()) > 0)
    assert np.all(np.abs(grad_log_var.numpy()) > 0)


def test_sampling_config_round_trips():
    layer = Sampling(seed=7, name="sampler")

    restored = Sampling.from_config(layer.get_config())

    assert restored.seed == 7
    assert restored.name == "sampler"


def _weighted_gradients(function, x, sources) -> tuple:
    """``function(x)`` and the gradients of a weighted sum of it by ``sources``.

    The weights differ per output element, so every element has its own gradient.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)  # variables among sources are watched already
        y = function(x)
        weights = tf.reshape(tf.range(tf.size(y), dtype=y.dtype), y.shape)
        loss = tf.reduce_sum(y * weights / 100.0)
    return (y, *tape.gradient(loss, sources))


def _same_function(ours: keras.layers.Layer, theirs: keras.layers.Layer, shape):
    """Outputs and gradients (inputs, weights) of two layers with one set of weights."""
    x = tf.constant(np.random.default_rng(1).normal(size=(3, *shape)), "float32")
    theirs.build((None, *shape))
    ours.build((None, *shape))
    rng = np.random.default_rng(2)
    values = [rng.normal(size=w.shape).astype("float32") for w in theirs.weights]
    theirs.set_weights(values)
    ours.set_weights(values)
    results = [
        _weighted_gradients(layer, x, [x, *layer.trainable_weights])
        for layer in (ours, theirs)
    ]
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("filters", "kernel", "strides", "activation", "shape"),
    [
        (1, 3, 1, None, (8, 8, 6)),  # the decoder's last layer: few channels out
        (2, 5, 1, "relu", (6, 6, 4)),  # computed the same way, larger kernel
        (4, 3, 2, "relu", (8, 8, 1)),  # an encoder layer: Keras' own op
        (6, 3, 1, None, (5, 5, 2)),  # more channels out than in: Keras' own op
    ],
)
def test_conv2d_computes_what_the_keras_layer_computes(
    filters, kernel, strides, activation, shape
):
    settings = {"strides": strides, "padding": "same", "activation": activation}
    _same_function(
        networks.FastConv2D(filters, kernel, **settings),
        keras.layers.Conv2D(filters, kernel, **settings),
        shape,
    )


def test_conv2d_transpose_computes_what_the_keras_layer_computes():
    settings = {"strides": 2, "padding": "same", "activation": "relu"}
    _same_function(
        networks.FastConv2DTranspose(4, 3, **settings),
        keras.layers.Conv2DTranspose(4, 3, **settings),
        (4, 4, 3),
    )


@pytest.mark.parametrize("shape", [(4, 4, 3), (2, 5, 6), (1, 1, 2)])
@pytest.mark.parametrize("ours", ["_conv_transpose_small", "_conv_transpose_by_parity"])
def test_our_transposed_convs_are_tensorflows_with_its_gradients(ours, shape):
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(3, *shape)), "float32")
    kernel = tf.Variable(rng.normal(size=(3, 3, 4, shape[-1])), dtype="float32")
    output_shape = (3, 2 * shape[0], 2 * shape[1], 4)
    results = [
        _weighted_gradients(lambda x, conv=conv: conv(x, kernel), x, [x, kernel])
        for conv in (
            getattr(networks, ours),
            lambda x, k: tf.nn.conv2d_transpose(x, k, output_shape, 2, "SAME"),
        )
    ]
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("helps", [True, False])
def test_float32_transposed_conv_takes_the_parity_path_only_when_tiny_and_it_helps(
    monkeypatch, helps
):
    calls = []
    parity = networks._conv_transpose_by_parity
    monkeypatch.setattr(networks, "parity_forward_helps", lambda: helps)
    monkeypatch.setattr(
        networks,
        "_conv_transpose_by_parity",
        lambda *args: calls.append(args[0].shape) or parity(*args),
    )
    side = networks._TINY_INPUT_SIDE
    tiny = np.random.default_rng(7).normal(size=(2, side, side, 3)).astype("float32")
    settings = {"strides": 2, "padding": "same", "activation": "relu"}
    _same_function(
        networks.FastConv2DTranspose(4, 3, **settings),
        keras.layers.Conv2DTranspose(4, 3, **settings),
        tiny.shape[1:],
    )
    layer = networks.FastConv2DTranspose(4, 3, **settings)
    layer(np.concatenate([tiny, tiny], axis=1))  # larger
    networks.FastConv2DTranspose(4, 3, strides=1, padding="same")(tiny)  # stride 1
    networks.FastConv2DTranspose(4, 3, **settings, dtype="mixed_bfloat16")(tiny)

    assert calls == ([(3, side, side, 3)] if helps else [])


def test_the_parity_path_is_for_cpus_without_avx512(monkeypatch):
    def helps(flags: set[str], cap: str | None = None) -> bool:
        monkeypatch.setattr(networks, "_PARITY_FORWARD_HELPS", None)
        monkeypatch.setattr(networks, "cpu_flags", lambda: flags)
        if cap is None:
            monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
        else:
            monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
        return networks.parity_forward_helps()

    assert helps({"avx2", "fma"})
    assert not helps({"avx2", "avx512f"})
    assert helps({"avx2", "avx512f"}, cap="avx2")
    assert not helps(set())  # not Linux: not known, TensorFlow's own op


@pytest.mark.parametrize("shape", [(4, 4, 3), (2, 6, 5)])
def test_small_relu_conv_has_tensorflows_gradients(shape):
    rng = np.random.default_rng(5)
    # Inputs both sides of 0, so the ReLU cuts some outputs and not others.
    x = tf.constant(rng.normal(size=(3, *shape)), "float32")
    kernel = tf.Variable(rng.normal(size=(3, 3, shape[-1], 4)), dtype="float32")
    bias = tf.Variable(rng.normal(size=4), dtype="float32")
    results = [
        _weighted_gradients(
            lambda x, conv=conv: conv(x, kernel, bias), x, [x, kernel, bias]
        )
        for conv in (
            networks._conv_relu_small,
            lambda x, k, b: tf.nn.relu(tf.nn.conv2d(x, k, 2, "SAME") + b),
        )
    ]
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("layer", "small_path", "settings"),
    [
        (
            networks.FastConv2DTranspose,
            "_conv_transpose_small",
            {"strides": 2, "padding": "same"},
        ),
        (
            networks.FastConv2D,
            "_conv_relu_small",
            {"strides": 2, "padding": "same", "activation": "relu"},
        ),
    ],
)
def test_bfloat16_layers_take_the_small_path_only_when_small(
    monkeypatch, layer, small_path, settings
):
    calls = []
    small = getattr(networks, small_path)
    monkeypatch.setattr(
        networks, small_path, lambda *args: calls.append(args[0].shape) or small(*args)
    )
    keras_layer = getattr(keras.layers, layer.__name__.removeprefix("Fast"))
    bfloat16 = {**settings, "dtype": "mixed_bfloat16"}
    side = networks._SMALL_INPUT_SIDE
    x = np.random.default_rng(4).normal(size=(2, side, side, 3)).astype("float32")
    ours = layer(4, 3, **bfloat16)
    theirs = keras_layer(4, 3, **bfloat16)
    for one in (ours, theirs):
        one.build(x.shape)
    ours.bias.assign(np.linspace(-0.5, 0.5, 4))
    theirs.set_weights(ours.get_weights())

    results = []
    for one in (ours, theirs):
        with tf.GradientTape() as tape:
            y = tf.cast(one(x), "float32")
            loss = tf.reduce_sum(y * tf.linspace(-1.0, 1.0, y.shape[-1]))
        results.append((y, *tape.gradient(loss, [one.kernel, one.bias])))
    for got, want in zip(*results, strict=True):
        # bfloat16 keeps 8 significant bits.
        np.testing.assert_allclose(
            got, want, atol=0.02 * float(tf.reduce_max(tf.abs(want)))
        )
    layer(4, 3, **bfloat16)(np.concatenate([x, x], axis=1))  # larger
    layer(4, 3, **settings)(x)  # float32
    if layer is networks.FastConv2D:
        layer(4, 3, **bfloat16)(x[:, 1:, 1:])  # odd sides: `same` pads both
        layer(4, 3, **{**bfloat16, "activation": None})(x)

    assert calls == [x.shape]


def test_the_decoder_keeps_keras_weight_layouts():
    decoder = build_decoder((8, 8, 1), (4, 8), 2)

    kernels = {w.path: tuple(w.shape) for w in decoder.weights if "kernel" in w.path}

    # Conv2DTranspose kernels are (kh, kw, out, in); Conv2D ones (kh, kw, in, out).
    assert kernels == {
        "dense/kernel": (2, 2 * 2 * 8),
        "deconv_0/kernel": (3, 3, 8, 8),
        "deconv_1/kernel": (3, 3, 4, 8),
        "logits/kernel": (3, 3, 4, 1),
    }
