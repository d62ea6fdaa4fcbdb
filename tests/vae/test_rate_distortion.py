"""Tests of the sweep reports: rate–distortion figure and Markdown table."""

import pandas as pd
import pytest
from matplotlib.figure import Figure

from image_vae.vae.rate_distortion import plot_rate_distortion, summary_markdown

SUMMARY = pd.DataFrame(
    {
        "beta": [2.0, 0.5],
        "rate": [3.0, 9.0],
        "distortion": [250.0, 240.0],
        "knn_accuracy": [0.7, 0.75],
        "active_units": [2, 2],
    }
)


def test_plot_annotates_every_beta_in_order_of_beta():
    fig = plot_rate_distortion(SUMMARY)

    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["β = 0.5", "β = 2"]
    points = ax.lines[0].get_xydata().tolist()
    assert points == [[9.0, 240.0], [3.0, 250.0]]


def test_plot_rejects_a_table_without_rate_and_distortion():
    with pytest.raises(ValueError, match="beta, rate and distortion"):
        plot_rate_distortion(SUMMARY.drop(columns="rate"))


def test_markdown_table_has_a_row_per_model_with_readable_numbers():
    table = summary_markdown(SUMMARY)

    lines = table.splitlines()
    assert lines[0].startswith("| β | rate: KL (nats) | distortion (nats)")
    assert len(lines) == 4
    assert lines[2] == "| 2 | 3.0 | 250.0 | 2 | 70.0 % |"
