"""End to end: `kedro run --env smoke --pipeline=sweep` through the project's CLI.

The project copy first gets its model input and smoke reference classifier,
copied from the shared smoke run (a slice of them, and small networks: what is
checked is what the sweep writes and records); the sweep then trains one model
per β of conf/smoke (0.5 and 2), each in its own MLflow run nested under the
sweep's. The command runs in this process (Click's runner, a real Kedro session
and MLflow store); the same sweep deployed to Dagster runs as its own processes
in tests/test_deploy.py.
"""

from __future__ import annotations

import os

import mlflow
import pandas as pd
import pytest

from tests_support import (
    MODEL_INPUT,
    QUICK_PARAMETERS,
    cli_in_process,
    copy_data,
    set_parameters,
    slice_model_input,
)

pytestmark = pytest.mark.slow


def test_smoke_sweep_writes_summary_plot_and_one_nested_run_per_beta(
    project_copy, smoke_project
):
    copy_data(smoke_project, project_copy, *MODEL_INPUT)
    slice_model_input(project_copy, train=600, test=200)
    set_parameters(project_copy, QUICK_PARAMETERS)
    result = cli_in_process(project_copy, "run", "--env", "smoke", "--pipeline=sweep")
    assert result.returncode == 0, result.stderr[-3000:]

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
