"""Imports TensorFlow with its C++ start-up chatter hidden.

TensorFlow prints absl/oneDNN/CUDA lines from C++ before Python logging exists;
``TF_CPP_MIN_LOG_LEVEL`` hides only some. Importing it once with file descriptor 2
pointed at /dev/null hides them all; later imports are free.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with stderr silenced at the file-descriptor level."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
