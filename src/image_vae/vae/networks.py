"""Building blocks of the β-VAE: convolutional encoder, decoder and sampling layer.

The encoder maps images of shape ``(H, W, C)`` with values in ``[0, 1]`` to the
parameters of a diagonal Gaussian posterior; the decoder maps latent codes back
to per-pixel Bernoulli *logits*; :class:`Sampling` draws from the posterior with
the reparametrisation trick. The model that ties them together lives in
:mod:`image_vae.vae.model`.

The networks are built from stock Keras layers, so a saved model loads anywhere
Keras does. :class:`FastConv2D` and :class:`FastConv2DTranspose` compute the same
functions with ops that train faster on a CPU; they are used only by the twin of
the model that ``fit_vae`` trains (``fast_layers=True``), and never serialised.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers, ops

from image_vae.vae.posterior import DiagonalGaussian

_CONV_KERNEL = 3
_CONV_STRIDE = 2


def check_input_shape(
    input_shape: Sequence[int], n_conv_layers: int
) -> tuple[int, int, int]:
    """Checks that an image shape fits a stack of stride-2 convolutions.

    Every convolution halves the spatial size, and the decoder doubles it back,
    so each side must be divisible by ``2**n_conv_layers`` for the decoder to
    return images exactly of the input shape.

    Args:
        input_shape: Image shape ``(height, width, channels)``, without batch axis.
        n_conv_layers: Number of stride-2 convolutions in the encoder, ≥ 1.

    Returns:
        The shape as a tuple of three Python ints.

    Raises:
        ValueError: If the shape is not 3-D with positive sizes, or if a side is
            not divisible by ``2**n_conv_layers``; the message says which
            padding would fix it.
    """
    if n_conv_layers < 1:
        raise ValueError(
            f"The encoder needs at least one conv layer. "
            f"Received: n_conv_layers={n_conv_layers}"
        )
    try:
        # operator.index accepts NumPy ints but not floats such as 28.0.
        shape = tuple(operator.index(size) for size in input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            "input_shape must be (height, width, channels) with positive integer "
            "sizes, without the batch axis; a greyscale image needs channels=1. "
            f"Received: input_shape={input_shape!r}"
        )
    factor = 2**n_conv_layers
    axes = ("side",) * 2 if shape[0] == shape[1] else ("height", "width")
    for axis, side in zip(axes, shape[:2], strict=True):
        if side % factor:
            raise ValueError(
                f"image {axis} {side} is not divisible by 2^{n_conv_layers} = "
                f"{factor} ({n_conv_layers} conv layers); "
                f"{_padding_hint(side, factor)}. Received: input_shape={shape}"
            )
    return shape


def _padding_hint(side: int, factor: int) -> str:
    """Says how much zero padding brings ``side`` to the next multiple of factor."""
    target = -(-side // factor) * factor
    before, after = (target - side) // 2, (target - side) - (target - side) // 2
    if before == after:
        return f"pad by {before} on each side to get {target}"
    return f"pad by {before} and {after} on the two sides to get {target}"


def build_encoder(
    input_shape: Sequence[int],
    filters: Sequence[int],
    latent_dim: int,
    *,
    fast_layers: bool = False,
) -> keras.Model:
    """Builds the convolutional encoder ``x -> (z_mean, z_log_var)``.

    Each entry of ``filters`` adds a 3×3, stride-2, ``same``-padded ReLU
    convolution; the flattened features feed two linear heads.

    Args:
        input_shape: Image shape ``(H, W, C)``; H and W divisible by
            ``2**len(filters)``.
        filters: Number of filters of each conv layer, e.g. ``(32, 64, 128)``.
        latent_dim: Dimension ``d`` of the latent space, ≥ 1.
        fast_layers: Use :class:`FastConv2D` (for training only: such a
            network is not meant to be saved).

    Returns:
        A functional model named ``"encoder"`` taking images of shape
        ``(batch, H, W, C)`` in ``[0, 1]`` and returning ``[z_mean, z_log_var]``,
        each of shape ``(batch, d)``: the mean and log-variance of the diagonal
        Gaussian posterior q(z | x).

    Raises:
        ValueError: If the shape, filters or latent dimension are invalid.
    """
    filters = _check_filters(filters)
    shape = check_input_shape(input_shape, len(filters))
    latent_dim = _check_latent_dim(latent_dim)
    conv = FastConv2D if fast_layers else layers.Conv2D
    images = keras.Input(shape=shape, name="images")
    features = images
    for index, n_filters in enumerate(filters):
        features = conv(
            n_filters,
            _CONV_KERNEL,
            strides=_CONV_STRIDE,
            padding="same",
            activation="relu",
            name=f"conv_{index}",
        )(features)
    features = layers.Flatten(name="flatten")(features)
    # Linear heads: the mean is unbounded and the log-variance may be negative.
    z_mean = layers.Dense(latent_dim, name="z_mean")(features)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(features)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(
    output_shape: Sequence[int],
    filters: Sequence[int],
    latent_dim: int,
    *,
    fast_layers: bool = False,
) -> keras.Model:
    """Builds the decoder ``z -> logits``, mirroring :func:`build_encoder`.

    A ReLU dense layer feeds a ``(H/2^n, W/2^n, filters[-1])`` feature map, then
    one 3×3, stride-2 ReLU transposed convolution per entry of ``filters`` in
    reverse order doubles it back to ``(H, W)``, and a final 3×3 convolution
    gives one value per pixel and channel.

    The final convolution has no activation: it returns Bernoulli logits, so
    that the cross-entropy can be computed from logits without saturating.
    Apply a sigmoid (as :meth:`image_vae.vae.model.VAE.decode` does) to get
    images in ``[0, 1]``.

    Args:
        output_shape: Image shape ``(H, W, C)``; H and W divisible by
            ``2**len(filters)``.
        filters: The encoder's filters, e.g. ``(32, 64, 128)``.
        latent_dim: Dimension ``d`` of the latent space, ≥ 1.
        fast_layers: Use :class:`FastConv2D` and :class:`FastConv2DTranspose`
            (for training only: such a network is not meant to be saved).

    Returns:
        A functional model named ``"decoder"`` taking ``z`` of shape ``(batch, d)``
        and returning logits of shape ``(batch, H, W, C)`` (unbounded floats).

    Raises:
        ValueError: If the shape, filters or latent dimension are invalid.
    """
    filters = _check_filters(filters)
    height, width, channels = check_input_shape(output_shape, len(filters))
    latent_dim = _check_latent_dim(latent_dim)
    factor = 2 ** len(filters)
    grid = (height // factor, width // factor, filters[-1])
    z = keras.Input(shape=(latent_dim,), name="z")
    features = layers.Dense(
        grid[0] * grid[1] * grid[2], activation="relu", name="dense"
    )(z)
    features = layers.Reshape(grid, name="reshape")(features)
    conv = FastConv2D if fast_layers else layers.Conv2D
    deconv = FastConv2DTranspose if fast_layers else layers.Conv2DTranspose
    for index, n_filters in enumerate(reversed(filters)):
        features = deconv(
            n_filters,
            _CONV_KERNEL,
            strides=_CONV_STRIDE,
            padding="same",
            activation="relu",
            name=f"deconv_{index}",
        )(features)
    logits = conv(channels, _CONV_KERNEL, padding="same", name="logits")(features)
    return keras.Model(z, logits, name="decoder")


def _add_bias(layer: layers.Layer, outputs):
    """Adds a conv layer's bias with TensorFlow's ``BiasAdd`` op.

    Keras adds it with a broadcasting ``Add``; ``BiasAdd`` is what TensorFlow's
    graph optimiser fuses into oneDNN's convolution (with the ReLU after it),
    and its gradient is one ``BiasAddGrad`` instead of a reduction over the
    broadcast axes.
    """
    if not layer.use_bias:
        return outputs
    data_format = "NHWC" if layer.data_format == "channels_last" else "NCHW"
    return tf.nn.bias_add(outputs, layer.bias, data_format=data_format)


class FastConv2D(layers.Conv2D):
    """:class:`keras.layers.Conv2D`, computed in a way that is faster on a CPU.

    Same weights (layout included), same function; only the TensorFlow ops
    differ. Two changes, each measured on the training step (see
    ``bench/README.md``):

    - the bias is added by :func:`_add_bias`;
    - a stride-1, ``same``-padded convolution with an odd kernel and fewer
      output than input channels (the decoder's last layer: 32 channels in, one
      out) is computed as the transposed convolution of the flipped kernel,
      which is the same sum. oneDNN's kernels for few output channels are slow:
      that layer's forward pass, weight gradient and input gradient took about
      2.5× as long as written this way;
    - in bfloat16, a 3×3, stride-2, ``same``-padded ReLU layer on inputs of at
      most :data:`_SMALL_INPUT_SIDE` pixels a side (the encoder's last) gets
      its kernel gradient from :func:`_conv_relu_small`, for the reason given
      at :class:`FastConv2DTranspose`.
    """

    def call(self, inputs):
        if self._small_bfloat16_relu(inputs):
            return _conv_relu_small(
                inputs,
                ops.cast(self.kernel, self.compute_dtype),
                ops.cast(self.bias, self.compute_dtype),
            )
        outputs = _add_bias(self, self.convolution_op(inputs, self.kernel))
        return outputs if self.activation is None else self.activation(outputs)

    def _small_bfloat16_relu(self, inputs) -> bool:
        return (
            self.activation is keras.activations.relu
            and self.use_bias
            and self.groups == 1
            # _stride2_kernel_gradient pads as `same` pads an even side.
            and all(side is not None and side % 2 == 0 for side in inputs.shape[1:3])
            and _small_bfloat16_stride2(self, inputs)
        )

    def convolution_op(self, inputs, kernel):
        in_channels = kernel.shape[-2]
        if not (
            self.padding == "same"
            and self.data_format == "channels_last"
            and all(stride == 1 for stride in self.strides)
            and all(rate == 1 for rate in self.dilation_rate)
            and all(size % 2 == 1 for size in self.kernel_size)
            and self.groups == 1
            and self.filters < in_channels
        ):
            return super().convolution_op(inputs, kernel)
        # conv(x, K)[p] = Σ_t x[p + t] K[t] = conv_transpose(x, K')[p] with
        # K'[t] = K[-t], its in/out axes swapped: (kh, kw, out, in).
        flipped = ops.flip(ops.flip(kernel, axis=0), axis=1)
        return ops.conv_transpose(
            inputs, ops.transpose(flipped, (0, 1, 3, 2)), strides=1, padding="same"
        )


class FastConv2DTranspose(layers.Conv2DTranspose):
    """:class:`keras.layers.Conv2DTranspose`, computed in a way that is faster on a CPU.

    Same weights and function as the Keras layer; only the TensorFlow ops
    differ (see ``bench/README.md``):

    - the bias is added by :func:`_add_bias`;
    - in bfloat16, a 3×3, stride-2, ``same``-padded layer on inputs of at most
      :data:`_SMALL_INPUT_SIDE` pixels a side (the decoder's first two) gets its
      kernel gradient from :func:`_conv_transpose_small`: oneDNN's bfloat16
      weight-gradient kernels were slow at these sizes on the CPU it was
      measured on (AVX512-BF16, no AMX);
    - in float32, where :func:`parity_forward_helps` (no AVX-512), such a layer
      on inputs of at most :data:`_TINY_INPUT_SIDE` pixels a side (the
      decoder's first for 32×32 images) computes its forward pass as
      :func:`_conv_transpose_by_parity`: oneDNN's AVX2 forward kernel ran at a
      tenth of its usual speed at that size.
    """

    def call(self, inputs):
        if self._small_bfloat16(inputs):
            outputs = _conv_transpose_small(
                inputs, ops.cast(self.kernel, self.compute_dtype)
            )
        elif self._tiny_float32(inputs):
            outputs = _conv_transpose_by_parity(
                inputs, ops.cast(self.kernel, self.compute_dtype)
            )
        else:
            outputs = ops.conv_transpose(
                inputs,
                self.kernel,
                strides=list(self.strides),
                padding=self.padding,
                output_padding=self.output_padding,
                dilation_rate=self.dilation_rate,
                data_format=self.data_format,
            )
        outputs = _add_bias(self, outputs)
        return outputs if self.activation is None else self.activation(outputs)

    def _small_bfloat16(self, inputs) -> bool:
        return self.output_padding is None and _small_bfloat16_stride2(self, inputs)

    def _tiny_float32(self, inputs) -> bool:
        return (
            self.output_padding is None
            and self.compute_dtype == "float32"
            and _stride2_same_3x3(self)
            and all(
                side is not None and side <= _TINY_INPUT_SIDE
                for side in inputs.shape[1:3]
            )
            and parity_forward_helps()
        )


def _small_bfloat16_stride2(layer: layers.Layer, inputs) -> bool:
    """Whether a (transposed) conv layer gets :func:`_stride2_kernel_gradient`.

    In bfloat16 only, for 3×3, stride-2, ``same``-padded layers on inputs of
    at most :data:`_SMALL_INPUT_SIDE` pixels a side.
    """
    return (
        layer.compute_dtype == "bfloat16"
        and _stride2_same_3x3(layer)
        and all(
            side is not None and side <= _SMALL_INPUT_SIDE for side in inputs.shape[1:3]
        )
    )


def _stride2_same_3x3(layer: layers.Layer) -> bool:
    """A 3×3, stride-2, ``same``-padded, undilated NHWC layer on TensorFlow."""
    return (
        keras.backend.backend() == "tensorflow"
        and layer.padding == "same"
        and layer.data_format == "channels_last"
        and tuple(layer.strides) == (2, 2)
        and tuple(layer.kernel_size) == (3, 3)
        and tuple(layer.dilation_rate) == (1, 1)
    )


# Largest input side for which _conv_transpose_by_parity's forward pass was
# faster than TensorFlow's transposed convolution in float32 on an AVX2-only CPU
# (2026-12-01, AMD Zen 3, batch 100, 128 -> 128 channels, 4 -> 8 pixels:
# 45.8 -> 19.2 ms; 128 -> 64, 8 -> 16: 20.3 -> 36.9 ms; 64 -> 32, 16 -> 32:
# 26.9 -> 37.4 ms). On AVX-512 CPUs oneDNN's own forward pass was fast (3.0 ms
# for 4 -> 8 on a Zen 4, 2026-11-27).
_TINY_INPUT_SIDE = 4
_AVX512_FLAG = "avx512f"
_ISA_CAPS_BELOW_AVX512 = frozenset({"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2"})


def parity_forward_helps() -> bool:
    """Whether :func:`_conv_transpose_by_parity` is the faster forward pass here.

    Where oneDNN has no AVX-512 kernels: a CPU without AVX-512 (Linux' CPU
    flags), or ``ONEDNN_MAX_CPU_ISA`` capping oneDNN below them. Read once.
    """
    global _PARITY_FORWARD_HELPS  # noqa: PLW0603  a cached fact of the machine
    if _PARITY_FORWARD_HELPS is None:
        flags = cpu_flags()
        _PARITY_FORWARD_HELPS = bool(flags) and (
            _AVX512_FLAG not in flags or onednn_isa_cap() in _ISA_CAPS_BELOW_AVX512
        )
    return _PARITY_FORWARD_HELPS


_PARITY_FORWARD_HELPS: bool | None = None


def onednn_isa_cap() -> str:
    """oneDNN's instruction-set cap (``ONEDNN_MAX_CPU_ISA``, or its older name
    ``DNNL_MAX_CPU_ISA``), upper-case; empty when none is set."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", ""))
    return cap.strip().upper()


def cpu_flags() -> set[str]:
    """The CPU's feature flags on Linux; empty elsewhere (then: not known)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def _parity_kernel(kernel):
    """A 3×3 transposed-conv kernel ``(3, 3, out, in)`` as a 2×2 conv kernel
    ``(2, 2, in, 4·out)``: output channel ``(2p + q)·out + c`` holds the taps
    that reach output pixels of row parity ``p`` and column parity ``q``.

    With stride 2 and ``same`` padding, output row ``2m`` sums input rows
    ``m - 1`` (kernel row 2) and ``m`` (kernel row 0), output row ``2m + 1``
    input row ``m`` alone (kernel row 1); columns alike.
    """
    # (parity, window position: 0 for m - 1, 1 for m) -> kernel row, or None.
    taps = {(0, 0): 2, (0, 1): 0, (1, 0): None, (1, 1): 1}
    zero = tf.zeros_like(tf.transpose(kernel[0, 0]))
    rows = []
    for a in range(2):
        columns = []
        for b in range(2):
            blocks = []
            for p in range(2):
                for q in range(2):
                    row, column = taps[(p, a)], taps[(q, b)]
                    blocks.append(
                        zero
                        if row is None or column is None
                        else tf.transpose(kernel[row, column])
                    )
            columns.append(tf.concat(blocks, axis=1))
        rows.append(tf.stack(columns))
    return tf.stack(rows)


@tf.custom_gradient
def _conv_transpose_by_parity(inputs, kernel):
    """``conv_transpose(inputs, kernel)``, 3×3, stride 2, ``same``, NHWC.

    The forward pass is one stride-1, 2×2 convolution to four times the
    channels, one group per output pixel parity (:func:`_parity_kernel`), put in
    place by ``depth_to_space``: the same sums. The gradients are those
    TensorFlow gives the transposed convolution.

    Args:
        inputs: ``(batch, h, w, in_channels)``.
        kernel: ``(3, 3, out_channels, in_channels)``, Keras' layout.

    Returns:
        ``(batch, 2h, 2w, out_channels)``, and the gradient function.
    """
    padded = tf.pad(inputs, [[0, 0], [1, 0], [1, 0], [0, 0]])
    parities = tf.nn.conv2d(padded, _parity_kernel(kernel), 1, "VALID")
    outputs = tf.nn.depth_to_space(parities, 2)

    def gradient(upstream):
        return (
            tf.nn.conv2d(upstream, kernel, 2, "SAME"),
            tf.raw_ops.Conv2DBackpropFilter(
                input=upstream,
                filter_sizes=tf.shape(kernel),
                out_backprop=inputs,
                strides=[1, 2, 2, 1],
                padding="SAME",
            ),
        )

    return outputs, gradient


# Largest input side for which _stride2_kernel_gradient was faster than
# oneDNN's kernel gradient in bfloat16 (2026-11-27, AVX512-BF16 without AMX,
# batch 100: transposed 4 -> 8 pixels 5.3 -> 3.0 ms, 8 -> 16 6.2 -> 5.3 ms,
# 16 -> 32 5.0 -> 8.0 ms; the encoder's 8 -> 4 2.6 -> 1.7 ms, while its 16 -> 8
# made the training step slower); in float32 it was slower at every size, so it
# is used in bfloat16 only.
_SMALL_INPUT_SIDE = 8


def _stride2_kernel_gradient(large, small):
    """The kernel gradient of a 3×3, stride-2, ``same`` convolution, NHWC.

    ``large`` is the convolution's input (or a transposed convolution's output
    gradient), ``small`` its output gradient (or a transposed convolution's
    input), half the size a side. TensorFlow computes the sum

        dK[a, b, c, d] = Σ_{n, p, q} large_pad[n, 2p + a, 2q + b, c] · small[n, p, q, d]

    with ``Conv2DBackpropFilter``; here it is one forward convolution: a
    dilation-2, ``valid`` convolution of ``large_pad`` with the images and
    channels axes swapped (c as the batch, n as the channels) by ``small`` laid
    out as a ``(p, q, n, d)`` filter. ``large_pad`` is ``large`` padded by one
    row and column at the end, as TensorFlow's ``same`` padding pads a
    stride-2 3×3 convolution of an even-sized image.

    Returns:
        ``(3, 3, c, d)``: a Conv2D kernel's layout (in, out) when ``large`` is
        the input, a Conv2DTranspose one's (out, in) when it is the output.
    """
    padded = tf.pad(large, [[0, 0], [0, 1], [0, 1], [0, 0]])
    gradient = tf.nn.conv2d(
        tf.transpose(padded, (3, 1, 2, 0)),
        tf.transpose(small, (1, 2, 0, 3)),
        strides=1,
        padding="VALID",
        dilations=2,
    )
    return tf.transpose(gradient, (1, 2, 0, 3))


@tf.custom_gradient
def _conv_transpose_small(inputs, kernel):
    """``conv_transpose(inputs, kernel)``, 3×3, stride 2, ``same``, NHWC.

    The forward pass and the input gradient are TensorFlow's own ops; the
    kernel gradient is :func:`_stride2_kernel_gradient`.

    Args:
        inputs: ``(batch, h, w, in_channels)``.
        kernel: ``(3, 3, out_channels, in_channels)``, Keras' layout.

    Returns:
        ``(batch, 2h, 2w, out_channels)``, and the gradient function.
    """
    shape = tf.shape(inputs)
    output_shape = tf.stack([shape[0], 2 * shape[1], 2 * shape[2], tf.shape(kernel)[2]])
    outputs = tf.nn.conv2d_transpose(inputs, kernel, output_shape, 2, "SAME")

    def gradient(upstream):
        return (
            tf.nn.conv2d(upstream, kernel, 2, "SAME"),
            _stride2_kernel_gradient(upstream, inputs),
        )

    return outputs, gradient


@tf.custom_gradient
def _conv_relu_small(inputs, kernel, bias):
    """``relu(conv2d(inputs, kernel) + bias)``, 3×3, stride 2, ``same``, NHWC.

    The forward ops are TensorFlow's own, one gradient function covers all
    three (so that TensorFlow can still fuse them into one oneDNN convolution),
    and the kernel gradient is :func:`_stride2_kernel_gradient`.

    Args:
        inputs: ``(batch, h, w, in_channels)``, h and w even.
        kernel: ``(3, 3, in_channels, out_channels)``, Keras' layout.
        bias: ``(out_channels,)``.

    Returns:
        ``(batch, h / 2, w / 2, out_channels)``, and the gradient function.
    """
    outputs = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(inputs, kernel, 2, "SAME"), bias))

    def gradient(upstream):
        # The ReLU passes the gradient where its output is positive.
        upstream = tf.raw_ops.ReluGrad(gradients=upstream, features=outputs)
        return (
            tf.nn.conv2d_transpose(upstream, kernel, tf.shape(inputs), 2, "SAME"),
            _stride2_kernel_gradient(inputs, upstream),
            tf.raw_ops.BiasAddGrad(out_backprop=upstream),
        )

    return outputs, gradient


@keras.saving.register_keras_serializable(package="image_vae")
class Sampling(layers.Layer):
    """Draws ``z ~ N(z_mean, exp(z_log_var))`` by reparametrisation.

    :meth:`DiagonalGaussian.sample`, as a layer that keeps the generator's state.
    Randomness comes from a :class:`keras.random.SeedGenerator`, so a layer
    built with a seed draws the same sequence every time it is rebuilt.

    Args:
        seed: Seed of the layer's generator; ``None`` draws one at random
            (repeatable after :func:`keras.utils.set_random_seed`).
        **kwargs: Passed to :class:`keras.layers.Layer`.
    """

    def __init__(self, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var):
        """Samples one ``z`` per row.

        Args:
            z_mean: Posterior means, shape ``(batch, d)``.
            z_log_var: Posterior log-variances, shape ``(batch, d)``.

        Returns:
            Samples of shape ``(batch, d)``.
        """
        return DiagonalGaussian(z_mean, z_log_var).sample(seed=self.seed_generator)

    def compute_output_shape(self, z_mean_shape, z_log_var_shape):
        return z_mean_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def _check_filters(filters: Sequence[int]) -> tuple[int, ...]:
    filters = tuple(filters)
    if not filters or not all(
        isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters
    ):
        raise ValueError(
            "filters must be a non-empty sequence of positive ints, one per conv "
            f"layer. Received: filters={filters}"
        )
    return filters


def _check_latent_dim(latent_dim: int) -> int:
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(
            f"latent_dim must be an int ≥ 1. Received: latent_dim={latent_dim!r}"
        )
    return latent_dim
