"""The diagonal Gaussian posterior q(z | x): sampling, KL to the prior, log-density.

Written once, in ``keras.ops``, and used by the sampling layer, the training
loss, the per-image losses and the importance-weighted bound; in the spirit of
diffusers' ``DiagonalGaussianDistribution``. It accepts NumPy arrays or tensors
and works inside compiled functions.
"""

from __future__ import annotations

import math

import keras
from keras import ops

_LOG_2PI = math.log(2.0 * math.pi)


class DiagonalGaussian:
    """``N(mean, diag(exp(log_var)))``, one distribution per row.

    Args:
        mean: Means μ, shape ``(..., d)``.
        log_var: Log-variances log σ², the same shape.
    """

    def __init__(self, mean, log_var) -> None:
        self.mean = mean
        self.log_var = log_var

    @property
    def std(self):
        """Standard deviations σ = exp(log σ² / 2), shape ``(..., d)``."""
        return ops.exp(0.5 * self.log_var)

    def sample(self, *, seed=None, epsilon=None):
        """Draws ``z = μ + σ · ε`` (the reparametrisation trick).

        Gradients flow to both μ and log σ². Give either ``seed`` (an int or a
        :class:`keras.random.SeedGenerator`: the same seed, the same draw) or
        ``epsilon``, standard-normal noise of shape ``(..., d)``; noise with
        extra leading axes, such as ``(K, batch, d)``, gives ``K`` samples of
        each row.

        Returns:
            Samples of the shape of ``epsilon``, or of ``mean``.
        """
        if epsilon is None:
            epsilon = keras.random.normal(
                ops.shape(self.mean), dtype=self.mean.dtype, seed=seed
            )
        return self.mean + self.std * epsilon

    def kl_to_standard_normal(self):
        """KL(q ‖ N(0, I)) in closed form, in nats per row.

        ``KL = -1/2 Σ_j (1 + log σ_j² - μ_j² - σ_j²)``.

        Returns:
            Shape ``(...,)``, ≥ 0.
        """
        return -0.5 * ops.sum(
            1.0 + self.log_var - ops.square(self.mean) - ops.exp(self.log_var),
            axis=-1,
        )

    def log_prob(self, z):
        """Log-density ``log q(z)`` in nats, summed over the ``d`` axis.

        Args:
            z: Points of shape ``(..., d)`` broadcastable against ``mean``, e.g.
                ``(K, batch, d)`` samples of ``(batch, d)`` rows.

        Returns:
            Shape ``z.shape[:-1]``.
        """
        standardized = (z - self.mean) / self.std
        return -0.5 * ops.sum(
            ops.square(standardized) + self.log_var + _LOG_2PI, axis=-1
        )

    @classmethod
    def standard_normal(cls, like) -> DiagonalGaussian:
        """The prior N(0, I) with the shape of ``like``, ``(..., d)``."""
        zeros = ops.zeros_like(like)
        return cls(zeros, zeros)
