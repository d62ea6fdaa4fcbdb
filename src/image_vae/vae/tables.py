"""Tabular views of latent codes and training history (pandas, no Kedro)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def latent_frame_columns(d: int) -> list[str]:
    """The columns of :func:`latent_frame` for latent dimension ``d``."""
    return [
        *(f"z_mean_{j}" for j in range(d)),
        *(f"z_log_var_{j}" for j in range(d)),
        "label",
        "label_name",
    ]


def latent_frame(
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
) -> pd.DataFrame:
    """One row per image: ``z_mean_0…``, ``z_log_var_0…``, ``label``, ``label_name``.

    Args:
        z_mean: ``(n, d)`` posterior means.
        z_log_var: ``(n, d)`` posterior log-variances.
        labels: ``(n,)`` integer class labels (−1 when unlabelled).
        class_names: Name of each class index; empty for unlabelled images,
            whose ``label_name`` is then empty.
    """
    frame = pd.DataFrame(
        np.concatenate([z_mean, z_log_var], axis=1).astype(np.float32),
        columns=latent_frame_columns(z_mean.shape[1])[:-2],
    )
    labels = np.asarray(labels, dtype=np.int64)
    frame["label"] = labels
    frame["label_name"] = (
        np.asarray(class_names, dtype=object)[labels] if len(class_names) else ""
    )
    return frame


def z_means(frame: pd.DataFrame) -> np.ndarray:
    """The ``(n, d)`` float32 posterior means stored in a :func:`latent_frame`."""
    columns = [c for c in frame.columns if c.startswith("z_mean_")]
    columns.sort(key=lambda c: int(c.rsplit("_", 1)[1]))
    return frame[columns].to_numpy(np.float32)


def history_frame(history: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """One row per epoch (``epoch`` from 1), one column per Keras history entry."""
    frame = pd.DataFrame({name: list(values) for name, values in history.items()})
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame
