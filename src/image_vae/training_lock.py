"""One training run at a time per checkpoint folder.

Two ``kedro run`` commands that train at once would write the same per-epoch
checkpoints (the folder is keyed by the configuration), each resuming from the
other's epochs. The first run holds an exclusive ``flock`` on a hidden file
beside the folder (``data/06_models/.checkpoints.lock``) while it runs; a second
one is refused at once, naming the process that holds it. The kernel drops the
lock when its process ends, however it ends (SIGKILL included): no stale lock.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from image_vae.errors import UserFacingError

try:
    import fcntl
except ImportError:  # Windows: no flock; concurrent runs are not guarded there
    fcntl = None


class RunInProgressError(UserFacingError):
    """Another process is training into the same checkpoint folder."""


class TrainingLock:
    """An exclusive, non-blocking lock on a folder, held until ``release``."""

    def __init__(self, folder: Path) -> None:
        # Beside the folder, not in it: the folder holds only checkpoints.
        self.folder = Path(folder)
        self.path = self.folder.parent / f".{self.folder.name}.lock"
        self._handle: Any = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
        except OSError:
            return  # not a usable folder: the parameter check says so
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunInProgressError(
                f"{self.folder}: {holder} is training here now; wait for it to "
                "end (or stop it), then run the command again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the flock
            self._handle = None


class TrainingLockHooks:
    """Takes the lock before a run that trains, drops it when the run ends."""

    def __init__(self) -> None:
        self._lock: TrainingLock | None = None

    # tryfirst: refused before kedro-mlflow opens a run.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        if "params:training" not in pipeline.inputs() or not any(
            name.endswith("vae_model") for name in pipeline.all_outputs()
        ):
            return
        folder = catalog.load("params:training").get("checkpoint_dir")
        if folder:
            self._lock = TrainingLock(Path(folder))
            self._lock.acquire()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
