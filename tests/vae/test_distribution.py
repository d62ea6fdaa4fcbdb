"""Several devices for one model: ``mirrored`` on two logical CPU devices.

TensorFlow fixes its logical devices once per process, so the training runs in
a subprocess: the other tests keep their one CPU device.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import pytest

from image_vae.vae.distribution import make_strategy

# One epoch of a tiny VAE on smooth blobs in [0, 1], seeded alike, under `none`
# and `mirrored` over the two logical CPUs, in float32 and in mixed bfloat16 (the
# project's bfloat16 speed layers).
_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    from image_vae.vae import VAE, fit_vae
    from image_vae.vae.distribution import distribution_scope

    grid = np.linspace(-1, 1, 16)
    rng = np.random.default_rng(0)
    centres = rng.uniform(-0.5, 0.5, size=(256, 2))
    images = np.exp(
        -((grid[None, :, None] - centres[:, 0, None, None]) ** 2
          + (grid[None, None, :] - centres[:, 1, None, None]) ** 2) / 0.1
    )[..., None].astype("float32")

    losses = {}
    for precision in ("float32", "mixed_bfloat16"):
        for distribution in ("none", "mirrored"):
            keras.utils.set_random_seed(0)
            devices = ["/cpu:0", "/cpu:1"] if distribution == "mirrored" else None
            with distribution_scope(distribution, devices) as strategy:
                model = VAE(input_shape=(16, 16, 1), latent_dim=2, filters=[4, 8],
                            seed=0)
                history = fit_vae(model, images, None, epochs=1, batch_size=64,
                                  learning_rate=1e-3, seed=0, precision=precision)
            losses[f"{precision} {distribution}"] = {
                "loss": history["loss"][-1],
                "replicas": 1 if strategy is None else strategy.num_replicas_in_sync,
            }
    print(json.dumps(losses))
    """
)


@pytest.mark.slow  # trains twice in a subprocess with two logical CPUs
def test_one_epoch_mirrored_on_two_cpus_matches_one_device():
    result = subprocess.run(  # noqa: PLW1510  checked below
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])

    for precision in ("float32", "mixed_bfloat16"):
        single = losses[f"{precision} none"]
        mirrored = losses[f"{precision} mirrored"]
        assert (single["replicas"], mirrored["replicas"]) == (1, 2)
        assert math.isfinite(mirrored["loss"])
        assert mirrored["loss"] == pytest.approx(single["loss"], rel=0.02)


def test_unknown_distribution_and_missing_devices_are_refused():
    with pytest.raises(ValueError, match="distribution must be one of"):
        make_strategy("tpu")
    with pytest.raises(ValueError, match="not found"):
        make_strategy("mirrored", ["/gpu:7"])
    assert make_strategy("none") is None
