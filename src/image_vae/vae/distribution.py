"""Several devices for one model: ``tf.distribute`` strategies for ``fit``.

``"none"`` trains on TensorFlow's default device. ``"mirrored"`` is
:class:`tf.distribute.MirroredStrategy`: one replica of the model per device
(every local GPU, or the devices listed), each step's batch split between them
and the gradients summed across them, so the batch size given to ``fit`` is the
global batch. Build and compile the model inside :func:`distribution_scope`, and
``fit`` it there too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Literal, get_args

import tensorflow as tf

logger = logging.getLogger(__name__)

Distribution = Literal["none", "mirrored"]
DISTRIBUTIONS: tuple[str, ...] = get_args(Distribution)


def make_strategy(
    distribution: Distribution, devices: Sequence[str] | None = None
) -> tf.distribute.Strategy | None:
    """The strategy of ``distribution`` over ``devices`` (``None``: all GPUs, or
    the CPU where there is none); ``None`` for ``"none"``.

    Raises:
        ValueError: If ``distribution`` is unknown or a device does not exist.
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {DISTRIBUTIONS}. "
            f"Received: distribution={distribution!r}"
        )
    if distribution == "none":
        return None
    if devices:
        known = [d.name for d in tf.config.list_logical_devices()]
        missing = [d for d in devices if _key(d) not in set(map(_key, known))]
        if missing:
            raise ValueError(
                f"devices {missing} not found; this machine has {known}. "
                f"Received: devices={list(devices)}"
            )
    strategy = tf.distribute.MirroredStrategy(list(devices) if devices else None)
    logger.info(
        "training on %d replicas: %s",
        strategy.num_replicas_in_sync,
        ", ".join(strategy.extended.worker_devices),
    )
    return strategy


def _key(device: str) -> tuple[str, int | None]:
    """``("CPU", 1)`` for ``"/cpu:1"`` and ``"/device:CPU:1"`` alike."""
    spec = tf.DeviceSpec.from_string(device)
    return (spec.device_type or "").upper(), spec.device_index


@contextlib.contextmanager
def distribution_scope(
    distribution: Distribution, devices: Sequence[str] | None = None
) -> Iterator[tf.distribute.Strategy | None]:
    """Runs the block in the strategy's scope (no scope for ``"none"``)."""
    strategy = make_strategy(distribution, devices)
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy
