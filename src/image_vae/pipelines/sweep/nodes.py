"""Nodes of the ``sweep`` pipeline: per-β parameters and the summary table."""

from __future__ import annotations

from typing import Any

import pandas as pd


def training_params_for(
    training: dict[str, Any], sweep: dict[str, Any], *, beta: float
) -> dict[str, Any]:
    """The ``training`` parameters with ``beta`` (and ``sweep.epochs``, if set)."""
    return {**training, "beta": beta, "epochs": sweep["epochs"] or training["epochs"]}


def summary_row(
    training: dict[str, Any],
    test_metrics: dict[str, float],
    sample_quality: dict[str, float],
) -> dict[str, float]:
    """One model's row: β, rate and distortion (nats per image), every metric.

    Rate is the test KL; distortion the Bernoulli reconstruction term
    (negative ELBO minus KL), whatever loss the model trained with.
    """
    return {
        "beta": float(training["beta"]),
        "rate": test_metrics["kl_loss"],
        "distortion": test_metrics["negative_elbo"] - test_metrics["kl_loss"],
        **test_metrics,
        **sample_quality,
    }


def summarise_sweep(*rows: dict[str, float]) -> pd.DataFrame:
    """The sweep's table: one row per model, sorted by β."""
    return pd.DataFrame(list(rows)).sort_values("beta", ignore_index=True)
