"""A quiet start-up: TensorFlow's C++ chatter and known third-party warnings hidden.

TensorFlow prints absl/oneDNN/CUDA lines from C++ before Python logging exists;
``TF_CPP_MIN_LOG_LEVEL`` hides only some. Importing it once with file descriptor 2
pointed elsewhere hides them all; later imports are free. The CUDA platform is
initialised lazily, at the first tensor op, and on a machine without a usable GPU
prints ``cuda_platform.cc:52] failed call to cuInit`` there, in the middle of
training: listing the devices inside the same quiet block initialises it early.
What was hidden stays available at DEBUG level on logger ``image_vae._quiet``.

Keras imports scikit-learn, and SciPy's statistics with it, only for its
``keras.wrappers`` (inside ``try: import sklearn / except ImportError``); this
project never uses them, and that import was ~1.4 s of a ~7.9 s ``import
tensorflow, keras`` on a 2-core Zen 3 (whole-process medians of 6 runs each).
The quiet import hides scikit-learn from Keras alone: once TensorFlow is in,
``import sklearn`` works as usual (MLflow's model flavours, a user's code).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

logger = logging.getLogger(__name__)

# Warnings that carry no action for this project's users, matched by message
# (regular expressions matched from the start of the message).
_KNOWN_WARNINGS = (
    # kedro 1.7 and kedro-mlflow 2.0 call OmegaConf's deprecated API on every run.
    r"register_new_resolver\(\) is deprecated",
    # With the [deploy] extra, every kedro command loads kedro-dagster's CLI, and
    # dagster-mlflow 0.19.10 (the release that works with dagster 1.13 and
    # pandas 3: pyproject.toml) warns that its version numbering differs.
    r"Found version mismatch between `dagster-shared`",
)
# MLflow warns while kedro-mlflow imports its own pyfunc model class, from inside
# a `catch_warnings` block that re-enables UserWarnings, so no warnings filter can
# hide it. Kedro routes warnings to the `py.warnings` logger, which can drop it.
_UNFILTERABLE_WARNING = "Add type hints to the `predict` method"
# Every node that needs the VAE loads it anew from the catalog, and its networks'
# compiled predict functions are traced once per load; TensorFlow's detector of
# excessive retracing counts all of them as one function (same code) and warns
# after a few nodes, with advice that does not apply.
_NODE_TRACING_WARNING = "triggered tf.function retracing"
# kedro-dagster warns, once per node input, that a parameter's Kedro name
# (`params:training`) is no Dagster name and that it renamed it.
_PARAMETER_NAME_WARNING = "Dataset name `params:"
# What Keras imports for its scikit-learn wrappers only (see the module docstring).
_UNUSED_BY_KERAS = "sklearn"
# Rich falls back to 80 columns when no standard stream is a terminal (CI, pipes,
# subprocess captures) and wraps every log record over several lines.
_LOG_COLUMNS_OFF_TERMINAL = "120"


def quiet_startup(*, import_tensorflow: bool = True) -> None:
    """Quiets the start-up of the stack: call before anything imports TensorFlow.

    Hides the known third-party warnings of a Kedro run and widens rich log lines
    when no terminal says how wide to be; with ``import_tensorflow``, also
    imports TensorFlow (scikit-learn hidden from Keras) and initialises its
    devices with stderr captured at the file-descriptor level.
    """
    _hide_known_warnings()
    _widen_log_lines_off_terminal()
    if not import_tensorflow or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryFile() as captured:
        try:
            with _stderr_to(captured.fileno()), _hidden(_UNUSED_BY_KERAS):
                import tensorflow as tf

                tf.config.list_physical_devices()
        except BaseException:
            # A broken install must not fail silently: show what TensorFlow said.
            sys.stderr.write(_read(captured) + "\n")
            raise
        hidden = _read(captured)
    if hidden:
        logger.debug("TensorFlow start-up output (hidden):\n%s", hidden)


def quiet_kedro_dagster() -> None:
    """Hides kedro-dagster's warning that a ``params:`` input is renamed for Dagster.

    Every Kedro project's parameters are named so; translating this project's
    jobs warned ~420 times, and ``dagster job execute`` translates twice (its
    command and the executor's fork server): ~1.8 s a translation of a ~26-s
    start-up (whole-process medians, 3 pairs, 2-core Zen 3), lines that carry no
    action. kedro-dagster's other warnings stay.
    """
    logging.getLogger("kedro_dagster.utils").addFilter(_drop_parameter_name_warning)


def _drop_parameter_name_warning(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(_PARAMETER_NAME_WARNING)


@contextmanager
def _hidden(module: str) -> Iterator[None]:
    """``import module`` raises ImportError in the block, unless already imported."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # the import system's "not importable" marker
    try:
        yield
    finally:
        if module in sys.modules and sys.modules[module] is None:
            del sys.modules[module]


@contextmanager
def _stderr_to(fd: int) -> Iterator[None]:
    """Points file descriptor 2 (C++ and Python stderr alike) at ``fd``."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _read(captured: IO[bytes]) -> str:
    captured.seek(0)
    return captured.read().decode(errors="replace").strip()


def _hide_known_warnings() -> None:
    for message in _KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    logging.getLogger("py.warnings").addFilter(_drop_unfilterable_warning)
    logging.getLogger("tensorflow").addFilter(_drop_node_tracing_warning)


def _drop_unfilterable_warning(record: logging.LogRecord) -> bool:
    return _UNFILTERABLE_WARNING not in record.getMessage()


def _drop_node_tracing_warning(record: logging.LogRecord) -> bool:
    return _NODE_TRACING_WARNING not in record.getMessage()


def _widen_log_lines_off_terminal() -> None:
    if "COLUMNS" in os.environ:
        return
    for fd in (0, 1, 2):
        try:
            os.get_terminal_size(fd)
        except (OSError, ValueError):
            continue
        return
    os.environ["COLUMNS"] = _LOG_COLUMNS_OFF_TERMINAL
