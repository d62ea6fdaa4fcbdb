"""The β-VAE model: encoder, sampler and decoder trained on the negative ELBO."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras import ops

from image_vae.vae.losses import (
    RECONSTRUCTION_LOSSES,
    ReconstructionLoss,
    reconstruction_loss,
)
from image_vae.vae.networks import Sampling, build_decoder, build_encoder
from image_vae.vae.posterior import DiagonalGaussian
from image_vae.vae.scaling import unit_batch

# Rows per compiled forward pass of the NumPy helpers: larger batches encoded the
# training set faster on a CPU, and 1024 images of 32×32 need about 130 MB of
# activations in the decoder.
_BATCH_SIZE = 1024

# Each model's decoder built from the fast layers, for the NumPy helpers' compiled
# batches. Kept beside the model, not on it, so that Keras neither tracks nor
# saves it.
_FAST_DECODERS: weakref.WeakKeyDictionary[VAE, keras.Model] = (
    weakref.WeakKeyDictionary()
)


@keras.saving.register_keras_serializable(package="image_vae")
class VAE(keras.Model):
    """A β-VAE on images with a diagonal Gaussian posterior and Bernoulli decoder.

    The loss per image is ``reconstruction + β · KL(q(z | x) ‖ N(0, I))``; ``fit``
    minimises its mean over the batch and, like ``evaluate``, reports ``loss``,
    ``reconstruction_loss`` and ``kl_loss`` (means per image, in nats for
    ``"bce"``). Compile with an optimizer only: the model computes its own loss.

    The NumPy helpers (:meth:`encode`, :meth:`decode`, :meth:`reconstruct`,
    :meth:`sample_prior`, :meth:`per_image_losses`, :meth:`evaluate_elbo`) take
    and return float32 arrays and work in batches.

    Args:
        input_shape: Image shape ``(H, W, C)``; H and W divisible by
            ``2**len(filters)``.
        latent_dim: Latent dimension ``d``, ≥ 1.
        filters: Filters of the encoder's conv layers; the decoder mirrors them.
        beta: Weight β ≥ 0 of the KL term (1 gives the plain VAE). It is baked
            into the compiled training step: changing it after ``fit`` has
            started has no effect on later steps.
        reconstruction_loss: ``"bce"`` (Bernoulli likelihood) or ``"mse"``.
        seed: Seed of the sampler; ``None`` draws one at random. Weight
            initialisation follows :func:`keras.utils.set_random_seed`.
        fast_layers: Build the networks from the CPU-faster convolutions of
            :mod:`image_vae.vae.networks`: what ``fit_vae`` trains. Not part
            of the config, so a saved model always holds stock Keras layers.
        **kwargs: Passed to :class:`keras.Model` (e.g. ``name``).

    Raises:
        ValueError: If an argument is out of range; the message ends with what
            was received.
    """

    def __init__(  # noqa: PLR0913  one argument per hyperparameter
        self,
        input_shape: Sequence[int] = (32, 32, 1),
        latent_dim: int = 2,
        *,
        filters: Sequence[int] = (32, 64, 128),
        beta: float = 1.0,
        reconstruction_loss: ReconstructionLoss = "bce",
        seed: int | None = None,
        fast_layers: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not beta >= 0:  # also rejects NaN
            raise ValueError(f"beta must be ≥ 0. Received: beta={beta!r}")
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(
                f"reconstruction_loss must be one of {RECONSTRUCTION_LOSSES}. "
                f"Received: reconstruction_loss={reconstruction_loss!r}"
            )
        self.encoder = build_encoder(
            input_shape, filters, latent_dim, fast_layers=fast_layers
        )
        self.decoder = build_decoder(
            input_shape, filters, latent_dim, fast_layers=fast_layers
        )
        # float32 whatever the global dtype policy: under mixed precision the
        # posterior is sampled, and the loss computed, at full precision.
        self.sampler = Sampling(seed=seed, name="sampler", dtype="float32")
        self.image_shape = tuple(self.encoder.input_shape[1:])
        self.latent_dim = latent_dim
        self.filters = tuple(filters)
        self.beta = float(beta)
        self.reconstruction_loss = reconstruction_loss
        self.seed = seed
        # Means over images (Mean weights each batch by its size), so the epoch
        # values are exact per-image averages and loss = recon + β·KL holds.
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # Both networks are functional models, built on construction; marking
        # the wrapper built lets BackupAndRestore and saving work before fit.
        self.built = True

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        # Listing the trackers here is what makes fit/evaluate reset them each
        # epoch and report them. Keras' own "loss" tracker, updated in
        # train_step, is left out so that "loss" is reported once.
        return [
            self.loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def call(self, inputs, training: bool = False, sample_posterior: bool = False):
        """Reconstructs images.

        Args:
            inputs: Images in ``[0, 1]``, shape ``(batch, H, W, C)``.
            training: Keras' training flag, passed to the networks.
            sample_posterior: Decode a posterior sample instead of the
                posterior mean (the default, which is deterministic).

        Returns:
            Pixel probabilities in ``[0, 1]``, shape ``(batch, H, W, C)``.
        """
        posterior = DiagonalGaussian(*self.encoder(inputs, training=training))
        z = (
            self.sampler(posterior.mean, posterior.log_var)
            if sample_posterior
            else posterior.mean
        )
        return ops.sigmoid(self.decoder(z, training=training))

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """Mean over images of ``reconstruction + β · KL``; updates the trackers.

        Called by ``fit`` and ``evaluate``. The target is ``x`` itself, so ``y``
        is ignored, as are ``sample_weight`` and ``y_pred``: the loss needs the
        posterior and the decoder logits, which ``call`` does not return, so it
        runs its own forward pass. The forward pass of ``train_step`` is then
        dead code, which TensorFlow's graph optimiser prunes: a profile of the
        compiled step shows each convolution once. Under a mixed-precision
        policy the networks compute in bfloat16 or float16 and the loss is
        computed in float32.

        Returns:
            Scalar loss tensor.
        """
        del y, y_pred, sample_weight
        posterior = DiagonalGaussian(*_float32(*self.encoder(x, training=training)))
        # Sample in evaluation too: validation must estimate the same objective.
        z = self.sampler(posterior.mean, posterior.log_var)
        (logits,) = _float32(self.decoder(z, training=training))
        reconstruction = reconstruction_loss(
            ops.cast(x, "float32"), logits, self.reconstruction_loss, from_logits=True
        )
        kl = posterior.kl_to_standard_normal()
        per_image = reconstruction + self.beta * kl
        self.loss_tracker.update_state(per_image)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        loss = ops.mean(per_image)
        if self.losses:  # e.g. weight regularisers added to the networks later
            loss = loss + ops.sum(self.losses)
        return loss

    # NumPy helpers -------------------------------------------------------------

    def encode(
        self, x: np.ndarray, batch_size: int = _BATCH_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior parameters of each image.

        Args:
            x: Images in ``[0, 1]``, shape ``(n, H, W, C)``.
            batch_size: Images per forward pass.

        Returns:
            ``(z_mean, z_log_var)``, each float32 of shape ``(n, d)``.
        """
        z_mean, z_log_var = _batched(
            lambda batch, eager: _forward(self.encoder, batch, eager),
            self._check_images(x),
            batch_size,
        )
        return z_mean, z_log_var

    def decode(self, z: np.ndarray, batch_size: int = _BATCH_SIZE) -> np.ndarray:
        """Decodes latent codes to images.

        Args:
            z: Latent codes, shape ``(n, d)``.
            batch_size: Codes per forward pass.

        Returns:
            Pixel probabilities in ``[0, 1]``, float32 of shape ``(n, H, W, C)``.
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"z must have shape (n, {self.latent_dim}). Received: z.shape={z.shape}"
            )
        decoder = self.inference_decoder(compiled=_compiled(len(z), batch_size))
        (images,) = _batched(
            lambda batch, eager: (ops.sigmoid(_forward(decoder, batch, eager)),),
            z,
            batch_size,
        )
        return images

    def reconstruct(self, x: np.ndarray, batch_size: int = _BATCH_SIZE) -> np.ndarray:
        """Decodes the posterior mean of each image (no sampling).

        Args:
            x: Images in ``[0, 1]``, shape ``(n, H, W, C)``.
            batch_size: Images per forward pass.

        Returns:
            Reconstructions in ``[0, 1]``, float32 of shape ``(n, H, W, C)``.
        """
        z_mean, _ = self.encode(x, batch_size)
        return self.decode(z_mean, batch_size)

    def sample_prior(
        self, n: int, seed: int | None = None, batch_size: int = _BATCH_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draws ``z ~ N(0, I)`` and decodes it.

        Args:
            n: Number of samples.
            seed: Seed of the draw; the same seed gives the same samples.
            batch_size: Codes per forward pass.

        Returns:
            ``(z, images)``: float32 arrays of shapes ``(n, d)`` and
            ``(n, H, W, C)``, images in ``[0, 1]``.
        """
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        z = z.astype(np.float32)
        return z, self.decode(z, batch_size)

    def per_image_losses(
        self, x: np.ndarray, batch_size: int = _BATCH_SIZE, seed: int = 0
    ) -> dict[str, np.ndarray]:
        """Loss terms of each image, for evaluation.

        The reconstruction terms use one posterior sample per image, drawn with
        ``seed`` so that repeated evaluations agree; the MSE uses the mean.

        Args:
            x: Images in ``[0, 1]``, shape ``(n, H, W, C)``.
            batch_size: Images per forward pass.
            seed: Seed of the posterior samples.

        Returns:
            Float32 arrays of shape ``(n,)``:

            - ``loss``: the training objective, reconstruction + β·KL;
            - ``reconstruction_loss``: the model's own reconstruction term;
            - ``kl_loss``: KL divergence in nats;
            - ``negative_elbo``: Bernoulli negative log-likelihood + KL (β = 1),
              in nats, whatever the training loss, so models compare;
            - ``mse_per_pixel``: mean squared error per pixel of the
              reconstruction of the posterior mean, in ``[0, 1]``.
        """
        x = self._check_images(x)
        rng = np.random.default_rng(seed)
        decoder = self.inference_decoder(compiled=_compiled(len(x), batch_size))

        def losses(batch, eager):
            posterior = DiagonalGaussian(
                *_float32(*_forward(self.encoder, batch, eager))
            )
            epsilon = rng.standard_normal(posterior.mean.shape).astype(np.float32)
            z = posterior.sample(epsilon=epsilon)
            logits, mean_logits = _float32(
                _forward(decoder, z, eager),
                _forward(decoder, posterior.mean, eager),
            )
            mean_images = ops.sigmoid(mean_logits)
            kl = posterior.kl_to_standard_normal()
            bce = reconstruction_loss(batch, logits, "bce", from_logits=True)
            own = (
                bce
                if self.reconstruction_loss == "bce"
                else reconstruction_loss(batch, logits, "mse", from_logits=True)
            )
            squared = reconstruction_loss(batch, mean_images, "mse")
            return own + self.beta * kl, own, kl, bce + kl, squared

        loss, own, kl, negative_elbo, squared = _batched(losses, x, batch_size)
        return {
            "loss": loss,
            "reconstruction_loss": own,
            "kl_loss": kl,
            "negative_elbo": negative_elbo,
            "mse_per_pixel": squared / np.float32(np.prod(self.image_shape)),
        }

    def evaluate_elbo(
        self, x: np.ndarray, batch_size: int = _BATCH_SIZE, seed: int = 0
    ) -> dict[str, float]:
        """Means over images of :meth:`per_image_losses`.

        Args:
            x: Images in ``[0, 1]``, shape ``(n, H, W, C)``.
            batch_size: Images per forward pass.
            seed: Seed of the posterior samples.

        Returns:
            ``loss``, ``reconstruction_loss``, ``kl_loss`` and ``negative_elbo``
            (nats per image for ``"bce"``), and ``mse_per_pixel``, as floats.
        """
        per_image = self.per_image_losses(x, batch_size, seed)
        return {name: float(np.mean(values)) for name, values in per_image.items()}

    def inference_decoder(self, compiled: bool = True) -> keras.Model:
        """The decoder for a compiled (``predict_on_batch``) or an eager pass.

        For a compiled pass of a float32 model: a twin of :attr:`decoder`
        built from the fast layers of :mod:`image_vae.vae.networks`, with this
        model's weights copied now (~6 ms), made once per model and never
        saved. On a CPU without AVX-512 it decoded 1.36x as many images per
        second (1,790 against 1,320 at batch 512, 2026-12-01, AMD Zen 3): the
        transposed convolution's forward pass that is slow there. Otherwise
        :attr:`decoder` itself (a short eager call, see :func:`_batched`, would
        spend longer building the twin than it saves).
        Outputs agree with :attr:`decoder`'s to float32 rounding.
        """
        float32 = (
            self.decoder.compute_dtype
            == keras.mixed_precision.global_policy().name
            == "float32"
        )
        if not (compiled and float32):
            return self.decoder
        twin = _FAST_DECODERS.get(self)
        if twin is None:
            twin = build_decoder(
                self.image_shape, self.filters, self.latent_dim, fast_layers=True
            )
            _FAST_DECODERS[self] = twin
        twin.set_weights(self.decoder.get_weights())
        return twin

    def _check_images(self, x: np.ndarray) -> np.ndarray:
        # uint8 (possibly memory-mapped) images stay so: _batched scales each batch.
        x = np.asarray(x)
        if x.shape[1:] != self.image_shape:
            raise ValueError(
                f"Images must have shape (n, {', '.join(map(str, self.image_shape))})."
                f" Received: x.shape={x.shape}"
            )
        return x

    # Serialisation --------------------------------------------------------------

    def get_config(self) -> dict:
        # The networks are rebuilt from these arguments on loading, and the
        # weights are then matched by path, so they need no config of their own.
        return {
            **super().get_config(),
            "input_shape": list(self.image_shape),
            "latent_dim": self.latent_dim,
            "filters": list(self.filters),
            "beta": self.beta,
            "reconstruction_loss": self.reconstruction_loss,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict) -> VAE:
        return cls(**config)


def _float32(*tensors) -> tuple:
    """Casts tensors to float32 (a no-op for float32 ones)."""
    return tuple(ops.cast(tensor, "float32") for tensor in tensors)


def _forward(network: keras.Model, batch, eager: bool):
    """The network's outputs for ``batch``: an eager call, or its compiled function."""
    return network(batch, training=False) if eager else network.predict_on_batch(batch)


def _compiled(n: int, batch_size: int) -> bool:
    """Whether :func:`_batched` runs ``n`` rows through compiled functions."""
    return n >= batch_size


def _batched(
    function: Callable[[np.ndarray, bool], Sequence],
    array: np.ndarray,
    batch_size: int,
) -> tuple[np.ndarray, ...]:
    """Applies ``function`` to consecutive batches and concatenates its outputs.

    ``function(batch, eager)`` runs the networks through ``_forward``. A call
    with fewer rows than ``batch_size`` runs them eagerly on its rows alone: no
    function to trace and no padding to compute (the morph's 20 codes were
    padded to 1,024 rows; ``kedro run --pipeline=morph`` took 23.0 s before,
    20.1 s after, paired medians on a 2-core Zen 3). Longer calls run each
    batch through the network's ``predict_on_batch``: a compiled function,
    which encoded the 60,000 training images 2 to 3 times faster than eager
    calls on a 2-core CPU; ``predict`` would add about 0.3 s of set-up per call.
    Their last, short batch is padded with zeros to ``batch_size`` rows and the
    padding's outputs dropped, so that the function is traced once per network
    and batch size instead of once more for every other length. Rows are
    computed independently, so the padding changes no output.

    Args:
        function: Maps a batch and the flag ``eager`` to a sequence of tensors
            with a leading batch axis.
        array: Inputs with a leading axis of length ``n``; uint8 images are
            scaled to [0, 1] one batch at a time.
        batch_size: Rows per call, ≥ 1.

    Returns:
        One float32 array per output of ``function``, each with leading axis ``n``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1. Received: batch_size={batch_size}")
    eager = not _compiled(len(array), batch_size)
    outputs = []
    for start in range(0, len(array), batch_size):
        batch = unit_batch(array[start : start + batch_size])
        rows = len(batch)
        if rows < batch_size and not eager:
            padding = np.zeros((batch_size - rows, *batch.shape[1:]), batch.dtype)
            batch = np.concatenate([batch, padding])
        outputs.append([ops.convert_to_numpy(t)[:rows] for t in function(batch, eager)])
    if not outputs:
        raise ValueError(f"Nothing to process. Received: array.shape={array.shape}")
    return tuple(
        np.concatenate(parts).astype(np.float32) for parts in zip(*outputs, strict=True)
    )
