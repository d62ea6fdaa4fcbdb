"""Reports of a β sweep: the rate–distortion figure and a Markdown table.

Pure matplotlib and pandas, like :mod:`image_vae.vae.plotting`: figures are built
with ``Figure(...)`` and never shown or saved here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# Columns of the README table, in order, with their headings.
SUMMARY_COLUMNS: Mapping[str, str] = {
    "beta": "β",
    "rate": "rate: KL (nats)",
    "distortion": "distortion (nats)",
    "negative_elbo": "−ELBO (nats)",
    "iwae_nll": "IWAE NLL (nats)",
    "iwae_bits_per_dim": "bits/dim",
    "active_units": "active units",
    "knn_accuracy": "5-NN acc.",
    "fid": "FID",
    "confidence": "confidence",
    "morph_success_rate": "morph success",
}


def plot_rate_distortion(summary: pd.DataFrame) -> Figure:
    """Rate (KL) against distortion (reconstruction), one annotated point per β.

    The dashed line through the best model is ``rate + distortion = const``: the
    models on it have the same negative ELBO (β = 1 optimises exactly that sum).

    Args:
        summary: One row per model with ``beta``, ``rate`` and ``distortion``
            (nats per image).

    Returns:
        The figure.

    Raises:
        ValueError: A column is missing or the table is empty.
    """
    missing = {"beta", "rate", "distortion"} - set(summary.columns)
    if missing or summary.empty:
        raise ValueError(
            "summary needs rows with beta, rate and distortion columns. Received: "
            f"columns={list(summary.columns)}, rows={len(summary)}"
        )
    rows = summary.sort_values("beta")
    rate, distortion = rows["rate"].to_numpy(), rows["distortion"].to_numpy()
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(rate, distortion, "-o", color="tab:blue", zorder=2)
    for beta, x, y in zip(rows["beta"], rate, distortion, strict=True):
        ax.annotate(f"β = {beta:g}", (x, y), xytext=(6, 6), textcoords="offset points")
    best = np.argmin(rate + distortion)
    pad = 0.1 * max(np.ptp(rate), 1.0)
    span = np.array([max(rate.min() - pad, 0.0), rate.max() + pad])
    ax.plot(
        span,
        rate[best] + distortion[best] - span,
        "--",
        color="0.6",
        zorder=1,
        label=f"equal −ELBO ({rate[best] + distortion[best]:.1f} nats)",
    )
    ax.set_xlabel("rate: KL(q(z | x) ‖ p(z)) [nats / image]")
    ax.set_ylabel("distortion: −E log p(x | z) [nats / image]")
    ax.set_title("Rate–distortion of the β sweep (test set)")
    ax.margins(0.15)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def summary_markdown(
    summary: pd.DataFrame, columns: Mapping[str, str] = SUMMARY_COLUMNS
) -> str:
    """A Markdown table of the chosen columns, numbers rounded for reading.

    Args:
        summary: One row per model.
        columns: Column name → heading; columns absent from ``summary`` are
            skipped.

    Returns:
        The table, one line per row plus header and rule, ending in a newline.
    """
    chosen = {name: title for name, title in columns.items() if name in summary}
    lines = [
        "| " + " | ".join(chosen.values()) + " |",
        "|" + "|".join("---:" for _ in chosen) + "|",
    ]
    for _, row in summary.iterrows():
        cells = [_format_cell(name, row[name]) for name in chosen]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _format_cell(name: str, value: float) -> str:
    if name == "beta":
        return f"{value:g}"
    if name == "active_units":
        return f"{int(value)}"
    if name in {"knn_accuracy", "confidence", "morph_success_rate"}:
        return f"{100 * value:.1f} %"
    if name == "iwae_bits_per_dim":
        return f"{value:.3f}"
    return f"{value:.1f}"
