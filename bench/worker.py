"""One side of the benchmark, run in its own process by ``train_speed.py``.

Each side trains in a fresh process so that its peak memory is its own and its
thread pools are not shared. The controller interleaves the sides chunk by chunk
of training (see :class:`EpochSync`): a side reports on stdout, one line
``@@bench {json}`` per record, emits ``pause`` and waits for ``go`` (or, at the end
of an epoch, ``stop``) on stdin; everything else a side prints (TensorFlow,
logging) is ignored.

Modes:
    ``machine SPEC``: the fp32 and bf16 matrix-multiply peaks of this machine
        and the training FLOPs per image of the model in SPEC.
    ``side SPEC``: trains one side (``reference`` or ``project``), see
        :func:`run_side`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

PREFIX = "@@bench "
BENCH_DIR = Path(__file__).resolve().parent


def emit(**record) -> None:
    """Sends one record to the controller."""
    sys.stdout.write(PREFIX + json.dumps(record) + "\n")
    sys.stdout.flush()


def receive() -> str:
    """Blocks until the controller sends a command (``go`` or ``stop``)."""
    line = sys.stdin.readline()
    if not line:  # the controller went away
        sys.exit(1)
    return line.strip()


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------- machine


def machine(spec: dict) -> None:
    """Matrix-multiply peaks (GFLOP/s) and the model's FLOPs per image."""
    import tensorflow as tf

    def peak(dtype: tf.DType, n: int = 4096, repeats: int = 8) -> float:
        a = tf.cast(tf.random.normal((n, n)), dtype)
        b = tf.cast(tf.random.normal((n, n)), dtype)
        matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)[0]))
        matmul(a, b).numpy()
        best = 0.0
        for _ in range(repeats):
            start = time.perf_counter()
            matmul(a, b).numpy()
            best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
        return best

    # Peaks are the best of several runs: the machine is shared, and other
    # work can only slow a run down.
    # Without bfloat16 instructions (or under ONEDNN_MAX_CPU_ISA=AVX2, where
    # oneDNN aborts on a bfloat16 matmul) there is no bfloat16 peak to measure.
    bf16 = auto_precision() == "mixed_bfloat16"
    emit(
        event="machine",
        fp32_gflops=peak(tf.float32),
        bf16_gflops=peak(tf.bfloat16) if bf16 else None,
        **training_flops(spec),
        tensorflow=tf.__version__,
        cpu=_cpu_name(),
        cpus=os.cpu_count(),
        flags=sorted(_cpu_flags() & {"avx512f", "avx512_bf16", "amx_bf16", "avx2"}),
        # An AVX2-only CPU, emulated on a larger one: ONEDNN_MAX_CPU_ISA=AVX2.
        onednn_isa_cap=os.environ.get("ONEDNN_MAX_CPU_ISA"),
        auto_precision=auto_precision(),
    )


def auto_precision() -> str:
    """What ``training.precision: auto`` trains in on this machine."""
    from image_vae.vae.training import auto_precision

    return auto_precision()


def training_flops(spec: dict) -> dict:
    """FLOPs of one training step per image, counted from the layer shapes.

    Multiply-adds of convolutions and dense layers count 2 FLOPs; biases and
    activations are left out. Training = forward + gradient with respect to the
    weights (as many FLOPs as the forward) + gradient with respect to the inputs
    (idem, except for the first layer, whose input is the data).
    """
    from image_vae.vae import VAE

    model = VAE(spec["input_shape"], spec["latent_dim"], filters=spec["filters"])
    forward, first = 0, None
    for network in (model.encoder, model.decoder):
        for layer in network.layers:
            macs = _macs(layer)
            if macs and first is None:
                first = macs
            forward += macs
    return {
        "forward_flops_per_image": 2 * forward,
        "train_flops_per_image": 2 * (3 * forward - first),
    }


def _macs(layer: keras.layers.Layer) -> int:
    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, h, w, c_in = layer.input.shape
        kh, kw = layer.kernel_size
        return h * w * c_in * kh * kw * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        kh, kw = layer.kernel_size
        return h * w * c_out * kh * kw * layer.input.shape[-1]
    if isinstance(layer, keras.layers.Dense):
        return layer.input.shape[-1] * layer.units
    return 0


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


# ------------------------------------------------------------------------ side


def run_side(spec: dict) -> None:
    """Trains one side, one epoch per ``go``, and reports every epoch.

    SPEC keys: ``kind`` (``reference`` or ``project``), ``data`` (folder with
    the preprocessed ``train_images.npy`` and ``test_images.npy``), ``subset``
    (training images, or null for all), ``params`` (the training parameters;
    ``epochs`` is the most epochs this side may run), ``encode`` (time the
    encoding of the full training set afterwards), ``save_to`` (a Kedro project
    whose catalog receives the trained model as ``vae_model``, or null),
    ``chunk_images`` (images per interleaved chunk).
    """
    from image_vae.vae import VAE

    data = Path(spec["data"])
    train = np.load(data / "train_images.npy")
    test = np.load(data / "test_images.npy")
    images = train if spec.get("subset") is None else train[: spec["subset"]]
    params = spec["params"]
    # Both sides are scored by the same code: the project's own evaluation
    # (test negative ELBO, β = 1, one seeded posterior sample per image) on a
    # float32 copy of the weights, between epochs, off the clock.
    evaluator = VAE(
        train.shape[1:],
        params["latent_dim"],
        filters=params["filters"],
        beta=params["beta"],
        reconstruction_loss=params["reconstruction_loss"],
    )

    def score(encoder: keras.Model, decoder: keras.Model) -> float:
        evaluator.encoder.set_weights(encoder.get_weights())
        evaluator.decoder.set_weights(decoder.get_weights())
        return evaluator.evaluate_elbo(test)["negative_elbo"]

    chunk = max(1, round(spec["chunk_images"] / params["batch_size"]))
    sync = EpochSync(len(images), params["batch_size"], params["epochs"], chunk, score)
    precision = params.get("precision", "float32")
    if spec["kind"] == "reference":
        precision = "float32"
    elif precision == "auto":
        from image_vae.vae.training import auto_precision

        precision = f"{auto_precision()} (auto)"
    emit(event="ready", precision=precision, rss_mb=max_rss_mb())
    if spec["kind"] == "reference":
        sys.path.insert(0, str(BENCH_DIR))
        from reference import build_reference

        keras.utils.set_random_seed(params["seed"])
        model = build_reference(
            train.shape[1:], params["filters"], params["latent_dim"]
        )
        images = notebook_images(images)
        # As the notebook does it, but verbose=0: a progress bar costs nothing
        # here worth measuring, and stdout is this process's channel.
        model.fit(
            images,
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            callbacks=[sync],
            verbose=0,
        )
    else:
        from image_vae.pipelines.training import nodes

        with tempfile.TemporaryDirectory() as checkpoints:
            # The training node exactly as `kedro run` calls it; the only hook
            # is the one meant for live callbacks (MLflow's, in a kedro run).
            nodes.live_callbacks = lambda: [sync]
            model, _ = nodes.train_model(
                images, test, {**params, "checkpoint_dir": checkpoints}
            )
        if spec.get("encode"):
            start = time.perf_counter()
            model.encode(train)
            emit(event="encode", seconds=time.perf_counter() - start, n=len(train))
        if spec.get("save_to"):
            _save_model(model, Path(spec["save_to"]))
    emit(event="done", max_rss_mb=max_rss_mb())


def notebook_images(images: np.ndarray) -> np.ndarray:
    """The images as the notebook trains on them: float32 in [0, 1].

    The project's model input is uint8 pixels, which it scales per batch.
    """
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return images.astype(np.float32, copy=False)


def _save_model(model, project: Path) -> None:
    """Saves ``model`` as the ``vae_model`` of a Kedro project, via its catalog."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        session.load_context().catalog.save("vae_model", model)


class EpochSync(keras.callbacks.Callback):
    """Runs training in chunks of ``chunk`` batches, one chunk per ``go``.

    Before the first batch of each chunk it emits ``pause`` and waits for the
    controller, so two sides alternate every few seconds and a change of load
    on the machine hits both alike. Each chunk is timed on its own (``chunk``
    records); an epoch's ``train_s`` is the sum of its chunks: training alone,
    waits excluded. ``epoch_s`` adds what follows the last batch up to the end
    of the epoch: the project's validation pass and backup writes.

    Args:
        n_images: Training images per epoch.
        epochs: Epochs the fit runs at most.
        chunk: Batches per chunk.
        score: Maps (encoder, decoder) to the test negative ELBO.
    """

    def __init__(
        self, n_images: int, batch_size: int, epochs: int, chunk: int, score
    ) -> None:
        super().__init__()
        self.n_images = n_images
        self.batch_size = batch_size
        self.epochs = epochs
        self.chunk = chunk
        self.score = score
        self._chunks: list[float] = []
        self._first_batch = 0
        self._start: float | None = None
        self._after_training = 0.0
        self._released = False  # the epoch-end pause already got its "go"

    def _pause(self) -> str:
        emit(event="pause")
        return receive()

    def _end_chunk(self, next_batch: int | None = None) -> None:
        """Ends the running chunk, if any, before batch ``next_batch``."""
        if self._start is not None:
            seconds = time.perf_counter() - self._start
            end = self.n_images
            if next_batch is not None:
                end = min(self.n_images, next_batch * self.batch_size)
            images = end - self._first_batch * self.batch_size
            self._chunks.append(seconds)
            emit(event="chunk", seconds=seconds, images=images)
            self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._chunks = []

    def on_train_batch_begin(self, batch, logs=None):
        if batch % self.chunk == 0:
            self._end_chunk(batch)
            if not self._released and self._pause() != "go":
                raise RuntimeError("expected 'go' before a chunk")
            self._released = False
            self._first_batch = batch
            self._start = time.perf_counter()

    def on_test_begin(self, logs=None):
        if self._start is not None:  # fit's validation, not the evaluator's
            self._end_chunk()
            self._after_training = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        end = time.perf_counter()
        if self._start is not None:  # no validation
            self._end_chunk()
            self._after_training = time.perf_counter()
        train_s = sum(self._chunks)
        logs = logs or {}
        emit(
            event="epoch",
            epoch=epoch + 1,
            images=self.n_images,
            chunks=self._chunks,
            train_s=train_s,
            epoch_s=train_s + end - self._after_training,
            images_per_s=self.n_images / train_s,
            loss=float(logs.get("loss", logs.get("total_loss", float("nan")))),
            test_negative_elbo=self.score(self.model.encoder, self.model.decoder),
            rss_mb=max_rss_mb(),
        )
        if epoch + 1 < self.epochs:
            if self._pause() == "stop":
                self.model.stop_training = True
            else:
                self._released = True


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "machine":
        machine(json.loads(argv[1]))
    elif mode == "side":
        run_side(json.loads(argv[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
