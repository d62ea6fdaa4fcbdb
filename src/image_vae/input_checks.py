"""Arrays that belong together must have one length, checked as they load.

Each array is checked on its own by its dataset (``expected:`` in the catalog);
this hook checks the pairs: ``train_images`` and ``train_labels`` (and
``train_latent_means``, one row per training image) must hold as many rows, or
images would be matched with the wrong labels. Such a pair comes from two
different runs (one rebuilt with another ``subset``, say), and is refused as
soon as the second one loads, before any node uses it.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl

from image_vae.errors import UserFacingError
from image_vae.user_messages import producing_pipeline

_ROW_ARRAYS = ("_images", "_labels", "_latent_means")


class MismatchedInputsError(UserFacingError):
    """Two arrays of one split have different numbers of rows."""


def split_of(name: str) -> str | None:
    """``train`` for ``train_images``/``train_labels``/``train_latent_means``."""
    for suffix in _ROW_ARRAYS:
        if name.endswith(suffix) and not name.endswith("_raw"):
            return name.removesuffix(suffix)
    return None


class InputChecksHooks:
    """Remembers the rows of each array loaded in a run and compares split mates."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, int]] = {}

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._rows = {}

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        split = split_of(dataset_name)
        if split is None or not hasattr(data, "shape") or not data.shape:
            return
        mates = self._rows.setdefault(split, {})
        mates[dataset_name] = rows = int(data.shape[0])
        for other, other_rows in mates.items():
            if other_rows != rows:
                pipeline = producing_pipeline(dataset_name) or "data_processing"
                raise MismatchedInputsError(
                    f"{other} has {other_rows} rows but {dataset_name} has {rows}: "
                    "they come from different runs; rebuild them with "
                    f"`kedro run --pipeline={pipeline}` (or plain `kedro run`)"
                )

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        # A run that rebuilds an array replaces what was loaded before.
        split = split_of(dataset_name)
        if split is not None and hasattr(data, "shape") and data.shape:
            self._rows.setdefault(split, {})[dataset_name] = int(data.shape[0])
