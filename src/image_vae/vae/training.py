"""Training helpers for the β-VAE: input pipeline, callbacks and ``fit_vae``."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, get_args

import keras
import numpy as np
import tensorflow as tf

from image_vae.errors import UserFacingError
from image_vae.vae.model import VAE
from image_vae.vae.networks import cpu_flags as _cpu_flags
from image_vae.vae.networks import onednn_isa_cap
from image_vae.vae.progress import Progress
from image_vae.vae.scaling import RowReader, row_batches, unit_tensor

logger = logging.getLogger(__name__)

# Written by keras.callbacks.BackupAndRestore; read only to log a resumption.
_BACKUP_METADATA = "training_metadata.json"
# Our own file beside Keras' backup: the per-epoch history of completed epochs, so
# a resumed run returns the whole history, not just the epochs run after resuming.
_HISTORY_FILE = "history.json"
_METRIC_ORDER = ("loss", "reconstruction_loss", "kl_loss")

# Keras dtype policies that training may run under. Mixed bfloat16 keeps float32
# weights and computes the networks in bfloat16; at batch 100 it trains ~1.37x
# the images/s of float32 on this project's AVX512-BF16 CPU (see
# bench/README.md), and where the CPU lacks bfloat16 instructions TensorFlow
# emulates them, which is slower. "auto" (the Kedro default) picks it only on a
# CPU-only machine whose CPU has them.
Precision = Literal["auto", "float32", "mixed_bfloat16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# oneDNN instruction-set caps (ONEDNN_MAX_CPU_ISA) below bfloat16's: under them
# oneDNN runs as on a CPU without bfloat16 instructions (how the benchmark
# measures such a CPU on one that has them).
_ISA_CAPS_WITHOUT_BF16 = frozenset(
    {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "AVX512_CORE_VNNI"}
)
# How the learning rate moves during training: "constant", or "cosine" decay
# from the learning rate to 0 over all the run's steps.
Schedule = Literal["constant", "cosine"]
SCHEDULES: tuple[str, ...] = get_args(Schedule)
# Weight averaging spans at most 1/this of a run's steps (see ema_momentum_for).
_EMA_RUN_FRACTION = 10
# Validation batches hold at least this many images: validation only runs
# forward, its per-image means do not depend on the batching, and on a 2-core CPU
# 10,000 test images took about half as long in batches of 1000 as of 100.
_MIN_VALIDATION_BATCH = 1000


class NonFiniteLossError(UserFacingError):
    """Raised when the training loss becomes NaN or infinite."""


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops training with :class:`NonFiniteLossError` at the first bad batch.

    Unlike :class:`keras.callbacks.TerminateOnNaN`, which ends ``fit`` quietly
    and returns a history that looks complete, this raises so that a pipeline
    run fails and says where.
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # Keras passes the running mean over the epoch; it turns non-finite at
        # the first bad batch and stays so, so this check catches that batch.
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise NonFiniteLossError(
                f"Training loss became {loss} in epoch {self._epoch + 1}/"
                f"{self.params.get('epochs')}, at batch {batch + 1} (or in the "
                "steps_per_execution batches before it). Try a lower learning "
                "rate, and check the images are finite and in [0, 1]. "
                f"Received: logs={logs}"
            )


class EpochLogger(keras.callbacks.Callback):
    """Logs one line per epoch: losses, validation losses, time and throughput.

    Within an epoch, progress shows as Keras' bar in a terminal, or as a log
    line at most every :data:`~image_vae.vae.progress.LOG_INTERVAL` seconds.

    Args:
        n_images: Number of training images per epoch, for the images/s rate.
        what: What is trained, leading each line (``"epoch"`` for the VAE).
    """

    def __init__(self, n_images: int, what: str = "epoch") -> None:
        super().__init__()
        self.n_images = n_images
        self.what = what
        self._epoch_start = 0.0
        self._train_end: float | None = None
        self._progress: Progress | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()
        self._train_end = None
        steps = self.params.get("steps") or 0
        self._progress = Progress(
            f"{self.what} {epoch + 1}/{self.params.get('epochs')}", steps, "steps"
        )

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._progress is not None:
            loss = (logs or {}).get("loss")
            values = {} if loss is None else {"loss": float(loss)}
            self._progress.update(batch + 1, **values)

    def on_test_begin(self, logs: dict | None = None) -> None:
        # Validation runs inside the epoch; stop the training clock there so
        # images/s measures training alone.
        if self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        end = time.perf_counter()
        train_seconds = (self._train_end or end) - self._epoch_start
        losses = " ".join(
            f"{name}={value:.4f}"
            for name, value in sorted((logs or {}).items(), key=_log_order)
        )
        logger.info(
            "%s %d/%d %s %.1fs %.0f images/s",
            self.what,
            epoch + 1,
            self.params.get("epochs"),
            losses,
            end - self._epoch_start,
            self.n_images / max(train_seconds, 1e-9),
        )


def _log_order(item: tuple[str, float]) -> tuple[bool, int, str]:
    """Orders logged metrics as loss, reconstruction, KL, then their val_ twins."""
    name = item[0]
    base = name.removeprefix("val_")
    rank = _METRIC_ORDER.index(base) if base in _METRIC_ORDER else len(_METRIC_ORDER)
    return name.startswith("val_"), rank, name


def make_dataset(
    images: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches images for ``fit``; the VAE's target is its input, so no labels.

    Gathers each batch from the NumPy array itself (:func:`row_batches`):
    neither a shuffle buffer nor a TensorFlow constant holds a copy of the
    dataset (a constant of the 60,000 training images is 245 MB more).
    Gathering 100 images in NumPy takes microseconds, ahead of the step.

    Args:
        images: Images in ``[0, 1]``, shape ``(n, H, W, C)``, or uint8 pixels
            (a memory-mapped array streams from disk), scaled per batch.
        batch_size: Images per batch; the last batch may be smaller.
        shuffle: Whether to reshuffle the order every epoch.
        seed: Shuffle seed; the same seed gives the same order of batches.

    Returns:
        A dataset of float32 batches of shape ``(≤ batch_size, H, W, C)``.

    Raises:
        ValueError: If ``images`` is not 4-D and non-empty or batch_size < 1.
    """
    images = np.asanyarray(images)  # a memory-mapped array stays one
    if images.dtype != np.uint8:
        images = images.astype(np.float32, copy=False)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            "images must be a non-empty array of shape (n, H, W, C). "
            f"Received: images.shape={images.shape}"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1. Received: batch_size={batch_size}")
    batch_shape = (None, *images.shape[1:])
    read = RowReader(images)

    def gather(index: tf.Tensor) -> tf.Tensor:
        batch = tf.numpy_function(
            read, [index], tf.as_dtype(images.dtype), stateful=False
        )
        return unit_tensor(tf.ensure_shape(batch, batch_shape))

    return row_batches(len(images), batch_size, gather, shuffle=shuffle, seed=seed)


def evenly_spaced(images: np.ndarray, count: int | None) -> np.ndarray:
    """``count`` rows of ``images`` spread evenly from first to last, in order.

    A validation set's classes stay represented however its rows are ordered
    (a folder of images read class by class). ``None``, or a ``count`` of at
    least ``len(images)``, gives ``images`` itself.
    """
    if count is None or count >= len(images):
        return images
    if count < 1:
        raise ValueError(f"count must be ≥ 1 or None. Received: count={count}")
    return images[np.linspace(0, len(images) - 1, count).round().astype(np.int64)]


def fit_vae(  # noqa: PLR0913  keyword-only training settings
    model: VAE,
    train_images: np.ndarray,
    val_images: np.ndarray | None,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    backup_dir: str | Path | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | Literal["auto"] = "auto",
    precision: Precision = "float32",
    schedule: Schedule = "constant",
    ema_momentum: float | None = None,
    adam_beta_2: float = 0.999,
) -> dict[str, list[float]]:
    """Compiles ``model`` with Adam and trains it on images.

    Always adds an :class:`EpochLogger` and a :class:`NonFiniteLossGuard`; with
    ``backup_dir``, a :class:`keras.callbacks.BackupAndRestore` lets a killed run
    resume from its last completed epoch (the backup is deleted once training
    completes).

    A twin of the model is trained from a copy of its weights, built from the
    faster convolutions of :mod:`image_vae.vae.networks` and under
    ``precision``, and the trained weights are copied back: ``model`` keeps its
    stock layers and dtype policy, so what is saved and evaluated afterwards
    loads anywhere and computes as before (float32 weights are copied exactly).

    Args:
        model: The VAE to train, in place.
        train_images: Images in ``[0, 1]``, shape ``(n, H, W, C)``.
        val_images: Validation images of the same shape, or ``None``.
        epochs: Total number of epochs, including any already completed in a
            backup being resumed.
        batch_size: Images per step.
        learning_rate: Adam's learning rate (its start, with a schedule).
        seed: Seeds Python, NumPy, TensorFlow and Keras, and the shuffling.
        callbacks: Extra callbacks, e.g. MLflow's, run after the built-in ones.
        backup_dir: Directory for the resumable backup, used by this run only.
        steps_per_execution: Steps run per compiled call; larger values cut
            per-step overhead, but the NaN guard then sees every n-th step.
        jit_compile: Passed to :meth:`keras.Model.compile`; ``"auto"`` uses XLA
            on a GPU and not on a CPU-only machine.
        precision: Keras dtype policy of the training step, ``"float32"`` or
            ``"mixed_bfloat16"`` (the loss is computed in float32 either way), or
            ``"auto"`` for :func:`auto_precision`'s choice, which is logged.
        schedule: ``"constant"``, or ``"cosine"``: the learning rate decays
            from ``learning_rate`` to 0 along a half cosine over the
            ``epochs`` (a resumed run continues the same curve: the backup
            holds the optimizer's step count).
        ema_momentum: With a value in ``[0, 1)``, Polyak averaging: Adam keeps
            an exponential moving average of the weights it visits (Keras'
            ``use_ema``), validation and the callbacks after the built-in ones
            see the average at the end of each epoch, and the model ends with
            the average. The momentum is capped by :func:`ema_momentum_for`.
            ``None`` trains without averaging.
        adam_beta_2: Adam's decay rate of its squared-gradient average (Keras'
            ``beta_2``; 0.999 is Keras' default and the reference's).

    Returns:
        The history: ``loss``, ``reconstruction_loss``, ``kl_loss`` (and the
        ``val_`` twins with validation images), one float per epoch run now.

    Raises:
        NonFiniteLossError: If the training loss becomes NaN or infinite.
        ValueError: If ``precision`` or ``schedule`` is unknown,
            ``ema_momentum`` is outside ``[0, 1)`` or ``adam_beta_2`` outside
            ``(0, 1)``.
    """
    if ema_momentum is not None and not 0 <= ema_momentum < 1:
        raise ValueError(
            f"ema_momentum must be in [0, 1), or None for no weight averaging. "
            f"Received: ema_momentum={ema_momentum!r}"
        )
    if not 0 < adam_beta_2 < 1:
        raise ValueError(
            f"adam_beta_2 must be in (0, 1). Received: adam_beta_2={adam_beta_2!r}"
        )
    if schedule not in SCHEDULES:
        raise ValueError(
            f"schedule must be one of {SCHEDULES}. Received: schedule={schedule!r}"
        )
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {PRECISIONS}. Received: precision={precision!r}"
        )
    if precision == "auto":
        precision = auto_precision()
        logger.info("training in %s (precision: auto)", precision)
    keras.utils.set_random_seed(seed)
    trainer = _twin(model, precision)
    steps = epochs * math.ceil(len(train_images) / batch_size)
    if schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=steps
        )
    averaging = (
        {}
        if ema_momentum is None
        else {"use_ema": True, "ema_momentum": ema_momentum_for(ema_momentum, steps)}
    )
    trainer.compile(
        optimizer=keras.optimizers.Adam(learning_rate, beta_2=adam_beta_2, **averaging),
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    # Keras (TensorFlow, no distribution strategy) would create Adam's slots and
    # the average inside the first traced step, and TensorFlow then traces that
    # step a second time (~2 s a fit); created here, it is traced once.
    trainer.optimizer.build(trainer.trainable_variables)
    built_in: list[keras.callbacks.Callback] = [
        NonFiniteLossGuard(),
        EpochLogger(len(train_images)),
    ]
    previous: dict[str, list[float]] = {}
    if backup_dir is not None:
        backup_dir = Path(backup_dir)
        _log_resumption(backup_dir, epochs)
        previous = completed_history(backup_dir)
        built_in += [
            HistoryBackup(backup_dir / _HISTORY_FILE, previous),
            keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=True),
        ]
    if averaging:
        # After the backup, which must hold the weights being trained.
        built_in.append(AveragedWeights())
    history = trainer.fit(
        make_dataset(train_images, batch_size, shuffle=True, seed=seed),
        validation_data=(
            None
            if val_images is None
            else make_dataset(
                val_images, max(batch_size, _MIN_VALIDATION_BATCH), shuffle=False
            )
        ),
        epochs=epochs,
        # The dataset reshuffles itself; Keras warns if asked to shuffle it.
        shuffle=False,
        callbacks=[*built_in, *callbacks],
        verbose=0,
    )
    model.set_weights(trainer.get_weights())
    return {
        name: previous.get(name, []) + [float(value) for value in values]
        for name, values in history.history.items()
    }


def ema_momentum_for(momentum: float, steps: int) -> float:
    """``momentum``, capped so that the average spans at most a tenth of the run.

    An exponential moving average of momentum m weighs about the last
    1 / (1 - m) steps, and Keras starts it from the weights after the first
    step: in a run of few steps a high momentum would keep mostly the first
    steps' weights. A run of ``steps`` steps gets at most ``1 - 10 / steps``
    (0 for 10 steps or fewer: no averaging).
    """
    return min(momentum, max(0.0, 1.0 - _EMA_RUN_FRACTION / steps))


class AveragedWeights(keras.callbacks.SwapEMAWeights):
    """The optimizer's averaged weights in the model between epochs and at the end.

    Keras' ``SwapEMAWeights(swap_on_epoch=True)``: validation, and the callbacks
    after this one at the end of an epoch, see the averaged weights; the
    weights being trained are swapped back in when the next epoch begins.
    Keras ends ``fit`` by copying the optimizer's average into the model, which
    after an early stop (a callback setting ``stop_training``) holds the
    trained weights instead, swapped out; so this keeps a copy of each epoch's
    average and puts it back when training ends.
    """

    def __init__(self) -> None:
        super().__init__(swap_on_epoch=True)
        self._average: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        self._average = [v.numpy() for v in self.model.trainable_variables]

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._average is not None:
            for variable, value in zip(
                self.model.trainable_variables, self._average, strict=True
            ):
                variable.assign(value)


def auto_precision() -> Precision:
    """``"mixed_bfloat16"`` on a CPU-only machine with bfloat16 instructions.

    That is where it was measured to be faster (AVX512-BF16); float32 elsewhere,
    GPUs included, until measured there, and where ``ONEDNN_MAX_CPU_ISA`` keeps
    oneDNN below its bfloat16 kernels.
    """
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    if onednn_isa_cap() in _ISA_CAPS_WITHOUT_BF16:
        return "float32"
    return "mixed_bfloat16" if _cpu_flags() & _BF16_CPU_FLAGS else "float32"


def _twin(model: VAE, precision: Precision) -> VAE:
    """A copy of ``model`` to train: same weights, fast layers, ``precision``.

    The speed layers stay in the training step: ``model`` keeps its stock
    layers and dtype policy, and gets the trained weights back.
    """
    with _global_dtype_policy(precision):
        twin = type(model).from_config({**model.get_config(), "fast_layers": True})
    twin.set_weights(model.get_weights())
    return twin


@contextmanager
def _global_dtype_policy(name: str) -> Iterator[None]:
    """Sets Keras' global dtype policy, which layers take when built, for a block."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


class HistoryBackup(keras.callbacks.Callback):
    """Writes the history of completed epochs to ``path`` after every epoch.

    It must run before ``BackupAndRestore`` in the callback list, so the file
    never lags the checkpoint; a resumed run trims it to the checkpoint's epoch.

    Args:
        path: JSON file to write.
        previous: History of the epochs completed before this ``fit``.
    """

    def __init__(self, path: Path, previous: dict[str, list[float]]) -> None:
        super().__init__()
        self.path = path
        self.history = {name: list(values) for name, values in previous.items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.history))
        tmp.replace(self.path)


def completed_history(backup_dir: Path) -> dict[str, list[float]]:
    """The history of the epochs a backup in ``backup_dir`` has completed."""
    try:
        completed = int(
            json.loads((backup_dir / _BACKUP_METADATA).read_text())["epoch"]
        )
        history = json.loads((backup_dir / _HISTORY_FILE).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    # Keras' metadata counts the completed epochs.
    return {name: values[:completed] for name, values in history.items()}


def _log_resumption(backup_dir: Path, epochs: int) -> None:
    """Logs where a run will resume when ``backup_dir`` holds a backup."""
    try:
        metadata = json.loads((backup_dir / _BACKUP_METADATA).read_text())
        completed = int(metadata["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    logger.info(
        "resuming from epoch %d/%d: %d epoch(s) already completed, backup in %s",
        completed + 1,
        epochs,
        completed,
        backup_dir,
    )
