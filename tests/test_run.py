"""End to end: the real `kedro run` CLI on a slice of the real Fashion-MNIST.

The shared smoke project (``smoke_runs`` in conftest: a run at β = 1, the morph
pipeline, a run at β = 4, each a real subprocess with the copy's own MLflow
store) is inspected by several tests.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import SMOKE_EPOCHS, SMOKE_RUN_PARAMETERS
from tests_support import FIGURES, cli_in_process, model_versions, runs, tracking_uri

pytestmark = pytest.mark.slow

LOSSES = ("loss", "reconstruction_loss", "kl_loss")


@pytest.fixture(scope="module")
def smoke(smoke_project: Path) -> Path:
    return smoke_project


def _default_runs(project: Path) -> list[mlflow.entities.Run]:
    return [r for r in runs(project) if r.data.tags.get("pipeline") == "__default__"]


def test_every_dataset_and_figure_is_written(smoke):
    images = np.load(smoke / "data/05_model_input/train_images.npy")
    assert images.shape == (2000, 32, 32, 1) and images.dtype == np.uint8
    assert np.load(smoke / "data/05_model_input/test_images.npy").shape[0] == 500

    history = pd.read_csv(smoke / "data/07_model_output/training_history.csv")
    assert history["epoch"].tolist() == list(range(1, SMOKE_EPOCHS + 1))
    assert {*LOSSES, *(f"val_{n}" for n in LOSSES)} <= set(history.columns)

    latent = pd.read_parquet(smoke / "data/07_model_output/latent_test.parquet")
    assert {"z_mean_0", "z_mean_1", "z_log_var_1", "label", "label_name"} <= set(
        latent.columns
    )
    assert len(latent) == 500 and "Trouser" in set(latent["label_name"])

    metrics = json.loads((smoke / "data/08_reporting/test_metrics.json").read_text())
    assert metrics["negative_elbo"] == pytest.approx(
        metrics["reconstruction_loss"] + metrics["kl_loss"], rel=1e-4
    )
    assert 0 < metrics["mse_per_pixel"] < 1

    for figure in (*FIGURES, "morph"):
        png = smoke / "data/08_reporting" / f"{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure

    direction = json.loads(
        (smoke / "data/07_model_output/class_direction.json").read_text()
    )
    assert direction["target_class"] == "Trouser"
    assert np.linalg.norm(direction["direction"]) == pytest.approx(1.0, abs=1e-5)
    path = pd.read_parquet(smoke / "data/07_model_output/morph_path.parquet")
    assert len(path) == 20


def test_mlflow_run_records_params_live_metrics_figures_model_and_tags(smoke):
    training_run, morph_run, _ = runs(smoke)
    client = mlflow.MlflowClient(tracking_uri(smoke))
    params = training_run.data.params
    assert params["training.beta"] == "1.0"
    assert params["training.latent_dim"] == "2"
    assert params["training.epochs"] == str(SMOKE_EPOCHS)
    filters = SMOKE_RUN_PARAMETERS["training"]["filters"]
    assert params["training.filters"] == str(filters)
    assert params["data_processing.subset.train"] == "2000"
    assert params["evaluation.latent_path.steps"] == "20"

    for name in (*LOSSES, *(f"val_{n}" for n in LOSSES)):
        history = client.get_metric_history(training_run.info.run_id, name)
        assert [m.step for m in history] == list(range(SMOKE_EPOCHS)), name
    assert "test.negative_elbo" in training_run.data.metrics

    figures = {
        a.path for a in client.list_artifacts(training_run.info.run_id, "figures")
    }
    assert figures == {f"figures/{name}.png" for name in FIGURES}

    tags = training_run.data.tags
    assert tags["pipeline"] == "__default__" and tags["kedro_env"] == "smoke"
    assert "git_commit" not in tags  # the copy is not a git work tree
    assert tags["vae_model_version"] == model_versions(smoke)[0]  # then β = 4's

    assert morph_run.data.tags["pipeline"] == "morph"
    assert morph_run.data.tags["model_run_id"] == training_run.info.run_id
    assert morph_run.data.params["morph.target_class"] == "None"  # index 1: Trouser
    morph_figures = client.list_artifacts(morph_run.info.run_id, "figures")
    assert [a.path for a in morph_figures] == ["figures/morph.png"]


def test_mlflow_model_loads_in_a_fresh_process_and_matches_the_saved_model(smoke):
    training_run = _default_runs(smoke)[-1]
    (model_id,) = [m.model_id for m in training_run.outputs.model_outputs]
    version = training_run.data.tags["vae_model_version"]
    assert version == model_versions(smoke)[-1]
    saved = smoke / "data/06_models/vae_model.keras" / version
    script = textwrap.dedent(
        f"""
        import sys, mlflow, numpy as np, keras
        import image_vae.vae
        x = np.load("{smoke}/data/05_model_input/test_images.npy")[:8]
        saved = keras.saving.load_model("{saved}/vae_model.keras")
        pyfunc = mlflow.pyfunc.load_model("models:/{model_id}")
        native = mlflow.tensorflow.load_model("models:/{model_id}")
        np.testing.assert_allclose(pyfunc.predict(x), saved.predict(x, verbose=0),
                                   atol=1e-6)
        for a, b in zip(native.encode(x), saved.encode(x)):
            np.testing.assert_allclose(a, b, atol=1e-6)
        print("MATCH")
        requirements = mlflow.pyfunc.get_model_dependencies("models:/{model_id}")
        print("REQUIREMENTS", open(requirements).read().split())
        """
    )
    result = subprocess.run(  # noqa: PLW1510  the caller checks the result
        [sys.executable, "-c", script],
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri(smoke)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "MATCH" in result.stdout, result.stderr[-3000:]
    # Pinned to what is installed; the project's own package travels as code.
    requirements = result.stdout.split("REQUIREMENTS", 1)[1]
    assert f"'tensorflow=={importlib.metadata.version('tensorflow')}'" in requirements
    assert "image-vae" not in requirements and "image_vae" not in requirements


def test_morph_reuses_the_saved_model_without_training(smoke_runs):
    # The morph ran between the two default runs: each of them saved one model,
    # the morph none, and its MLflow run has no training metrics.
    versions = smoke_runs.versions
    assert len(versions["beta_1"]) == 1 and versions["morph"] == versions["beta_1"]
    assert len(versions["beta_4"]) == 2
    training_run, morph_run, _ = runs(smoke_runs.project)
    assert "loss" in training_run.data.metrics
    assert not {"loss", "kl_loss"} & set(morph_run.data.metrics)
    assert "Running node: walk_toward_target_class" in smoke_runs.logs["morph"]
    assert "train_vae_model" not in smoke_runs.logs["morph"]
    assert "Running node: train_vae_model" in smoke_runs.logs["beta_1"]


def test_runs_log_no_warnings(smoke_runs):
    # A user's run is warning-free: no TensorFlow retracing advice (every node
    # loads the model anew and traces it once), no third-party deprecations.
    for name, log in smoke_runs.logs.items():
        assert " WARNING " not in log, name
        assert "Warning:" not in log, name


def test_runs_with_different_beta_share_one_experiment(smoke):
    betas = [float(r.data.params["training.beta"]) for r in _default_runs(smoke)]
    assert betas == [1.0, 4.0]
    assert len({r.info.experiment_id for r in runs(smoke)}) == 1


def test_data_processing_on_the_full_real_data(project_copy):
    project = project_copy
    # In this process: the arrays are the check, the CLI's start-up is not.
    result = cli_in_process(project, "run", "--pipeline=data_processing")
    assert result.returncode == 0, result.stderr[-3000:]
    for split, n in (("train", 60000), ("test", 10000)):
        images = np.load(project / f"data/05_model_input/{split}_images.npy")
        labels = np.load(project / f"data/05_model_input/{split}_labels.npy")
        assert images.shape == (n, 32, 32, 1) and images.dtype == np.uint8
        assert images.min() == 0 and images.max() == 255
        assert not images[:, :2].any() and not images[:, -2:].any()
        assert not images[:, :, :2].any() and not images[:, :, -2:].any()
        assert labels.shape == (n,) and set(np.unique(labels)) == set(range(10))
