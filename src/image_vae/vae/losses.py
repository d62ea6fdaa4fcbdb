"""The reconstruction term of the β-VAE objective, written with ``keras.ops``.

It returns one value per image (shape ``(batch,)``), in nats for the Bernoulli
cross-entropy, so callers choose how to reduce it; the KL term is
:meth:`image_vae.vae.posterior.DiagonalGaussian.kl_to_standard_normal`. It
accepts NumPy arrays or tensors and works inside compiled functions.
"""

from __future__ import annotations

from typing import Literal

from keras import ops

ReconstructionLoss = Literal["bce", "mse"]
RECONSTRUCTION_LOSSES: tuple[str, ...] = ("bce", "mse")

# Probabilities are clipped this far from 0 and 1 before taking logs; the model
# itself passes logits and never needs it.
_EPSILON = 1e-7


def reconstruction_loss(
    x, x_hat, kind: ReconstructionLoss = "bce", *, from_logits: bool = False
):
    """Reconstruction term summed over pixels and channels, one value per image.

    - ``"bce"``: Bernoulli negative log-likelihood
      ``-Σ [x log p + (1 - x) log(1 - p)]`` in nats, with ``p`` the decoded
      pixel probability; valid for targets anywhere in ``[0, 1]``.
    - ``"mse"``: squared error ``Σ (x - p)²``.

    Args:
        x: Target images in ``[0, 1]``, shape ``(batch, H, W, C)``.
        x_hat: Decoder output of the same shape: pixel probabilities in
            ``[0, 1]``, or logits when ``from_logits`` is true.
        kind: ``"bce"`` or ``"mse"``.
        from_logits: Whether ``x_hat`` holds logits. Prefer logits for
            ``"bce"``: the loss is then exact even where the sigmoid saturates.

    Returns:
        Loss per image, shape ``(batch,)``, ≥ 0.

    Raises:
        ValueError: If ``kind`` is unknown.
    """
    if kind not in RECONSTRUCTION_LOSSES:
        raise ValueError(
            f"kind must be one of {RECONSTRUCTION_LOSSES}. Received: kind={kind!r}"
        )
    x = ops.convert_to_tensor(x)
    x_hat = ops.convert_to_tensor(x_hat, dtype=x.dtype)
    if kind == "bce":
        if from_logits:
            # log(1 + e^l) - x·l, rearranged so that exp never overflows.
            per_pixel = (
                ops.relu(x_hat) - x * x_hat + ops.log1p(ops.exp(-ops.abs(x_hat)))
            )
        else:
            p = ops.clip(x_hat, _EPSILON, 1.0 - _EPSILON)
            per_pixel = -(x * ops.log(p) + (1.0 - x) * ops.log1p(-p))
    else:
        p = ops.sigmoid(x_hat) if from_logits else x_hat
        per_pixel = ops.square(x - p)
    return ops.sum(per_pixel, axis=tuple(range(1, len(per_pixel.shape))))
