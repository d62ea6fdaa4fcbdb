"""End to end: `kedro run --env smoke --pipeline=sweep` through the real CLI.

The project copy first gets its model input and smoke reference classifier,
copied from the shared smoke run; the sweep then trains one model per β of
conf/smoke (0.5 and 2), each in its own MLflow run nested under the sweep's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests_support import MODEL_INPUT, copy_data

pytestmark = pytest.mark.slow


def _kedro(project: Path, *args: str) -> None:
    result = subprocess.run(  # noqa: PLW1510  checked below
        [str(Path(sys.executable).parent / "kedro"), "run", "--env", "smoke", *args],
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_smoke_sweep_writes_summary_plot_and_one_nested_run_per_beta(
    project_copy, smoke_project
):
    copy_data(smoke_project, project_copy, *MODEL_INPUT)
    _kedro(project_copy, "--pipeline=sweep")

    summary = pd.read_parquet(project_copy / "data/08_reporting/sweep_summary.parquet")
    assert summary["beta"].tolist() == [0.5, 2.0]
    metrics = {"rate", "distortion", "iwae_nll", "iwae_bits_per_dim", "active_units"}
    metrics |= {"knn_accuracy", "fid", "confidence", "morph_success_rate"}
    assert metrics <= set(summary.columns)
    assert summary[sorted(metrics)].notna().all().all()
    plot = project_copy / "data/08_reporting/rate_distortion.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (project_copy / "data/08_reporting/sweep_summary.md").read_text()
    assert "| 0.5 |" in table and "| 2 |" in table

    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("image_vae")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("pipeline") == "sweep"]
    children = [r for r in runs if r.data.tags.get("sweep_id") == parent.info.run_id]
    children = [r for r in children if r.info.run_id != parent.info.run_id]
    assert sorted(float(r.data.params["training.beta"]) for r in children) == [0.5, 2]
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert {"loss", "test.iwae_nll", "sample_quality.fid"} <= set(
            child.data.metrics
        )
        figures = client.list_artifacts(child.info.run_id, "figures")
        assert "figures/latent_scatter.png" in {a.path for a in figures}
    figures = client.list_artifacts(parent.info.run_id, "figures")
    assert [a.path for a in figures] == ["figures/rate_distortion.png"]
    assert "sweep.betas" in parent.data.params
