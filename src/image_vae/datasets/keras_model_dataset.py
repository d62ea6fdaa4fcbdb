"""kedro-datasets' ``TensorFlowModelDataset``, with atomic saves and plain load errors.

Two changes, both for a model on the local disk:

- ``save`` writes the ``.keras`` file beside its final name and renames it into
  place. The parent class saves into a temporary folder and then copies the file,
  so a full disk or a kill during the copy left a half-written newest version that
  every later run tried (and failed) to load. Now a failed save leaves no file
  (and no empty version folder), and the previous version stays the newest.
- ``load`` reports what is wrong with the stored file (a directory, empty,
  truncated, not a ``.keras`` archive, another kind of model) naming the stored
  path, not the temporary copy Keras was given.

And one addition: a local file is read once per run. The nodes of one run that
take the model share the object loaded first, until the file changes (a save, a
new version) or the runner releases the dataset after its last node. A default
run's dozen nodes each loaded it anew (~0.3 s each on a 2-core CPU), and each
built its own fast evaluation decoder (``VAE.inference_decoder``); the morph's
two nodes loaded it twice.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.tensorflow import TensorFlowModelDataset

from image_vae.errors import UserFacingError


class ModelFileError(UserFacingError):
    """A stored model is missing, damaged, or not the kind of model expected."""


class KerasModelDataset(TensorFlowModelDataset):
    """``tensorflow.TensorFlowModelDataset`` that saves atomically.

    Extra argument ``model_class``: the class name the loaded model must have (or
    inherit from), e.g. ``VAE``, so that another model saved in its place is
    refused at load instead of failing inside a node.
    """

    def __init__(self, *, model_class: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model_class = model_class
        self._loaded: tuple[tuple, Any] | None = None

    def _version_hint(self, path: str) -> str:
        if self._version is None:
            return ""
        folder = Path(path).parent
        return f"; delete {folder} to fall back to the previous version"

    def load(self) -> Any:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        key = _file_key(path) if self._protocol == "file" else None
        if key is not None and self._loaded is not None and self._loaded[0] == key:
            return self._loaded[1]
        model = self._load_from(path)
        self._loaded = None if key is None else (key, model)
        return model

    def _release(self) -> None:
        super()._release()
        self._loaded = None

    def _load_from(self, path: str) -> Any:
        local = self._protocol == "file"
        if local and Path(path).is_dir():
            raise ModelFileError(
                f"{path}: a directory where the model file should be"
                + self._version_hint(path)
            )
        if local and Path(path).exists() and Path(path).stat().st_size == 0:
            raise ModelFileError(f"{path}: empty file" + self._version_hint(path))
        try:
            model = super().load()
        except DatasetError as error:
            cause = error.__cause__ or error
            if isinstance(cause, FileNotFoundError) and not Path(path).exists():
                raise
            if isinstance(cause, zipfile.BadZipFile) or (
                local and path.endswith(".keras") and not zipfile.is_zipfile(path)
            ):
                what = "not a .keras archive (truncated or damaged)"
            else:
                first = str(cause).strip().splitlines()[0] if str(cause) else ""
                what = f"not a model this project can load ({type(cause).__name__}"
                what += f": {first[:200]})" if first else ")"
            raise ModelFileError(f"{path}: {what}{self._version_hint(path)}") from cause
        expected = self._model_class
        if expected and expected not in {c.__name__ for c in type(model).__mro__}:
            raise ModelFileError(
                f"{path}: holds a {type(model).__name__}, expected a {expected}"
                + self._version_hint(path)
            )
        return model

    def save(self, data: Any) -> None:
        if self._protocol != "file":
            super().save(data)
            return
        import keras

        target = Path(get_filepath_str(self._get_save_path(), self._protocol))
        folder_existed = target.parent.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Keras picks the format from the suffix, so the name keeps it.
        partial = target.with_name(f".partial-{target.name}")
        try:
            keras.saving.save_model(data, partial, **self._save_args)
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            if not folder_existed and not any(target.parent.iterdir()):
                target.parent.rmdir()
            raise
        self._invalidate_cache()


def _file_key(path: str) -> tuple | None:
    """What identifies a local file's content: path, size, modification time, inode."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return (path, stat.st_size, stat.st_mtime_ns, stat.st_ino)
