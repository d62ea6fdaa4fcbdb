"""Against a real `mlflow server`: train in one project copy, morph from the registry
in another that has no model and no local store, and two runs at once.

The server has its own backend store and artifact root and serves the artifacts
(clients upload and download over HTTP; no shared disk). Every `kedro run` is a
real subprocess pointed at it by ``MLFLOW_TRACKING_URI`` alone.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from tests_support import (
    MODEL_INPUT,
    QUICK_PARAMETERS,
    cli_in_process,
    copy_data,
    error_line,
    kedro,
    set_parameters,
)

pytestmark = pytest.mark.slow

LOSSES = ("loss", "reconstruction_loss", "kl_loss")
EPOCHS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a running `mlflow server` for the module."""
    root = tmp_path_factory.mktemp("server")
    url = f"http://127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            url.rsplit(":", 1)[1],
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "2",
        ],
        stdout=(root / "server.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("mlflow server did not start:\n" + _log(root))
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def _log(root: Path) -> str:
    return (root / "server.log").read_text()[-3000:]


def _kedro(project: Path, server: str, *args: str, check: bool = True):
    return kedro(project, *args, check=check, env={"MLFLOW_TRACKING_URI": server})


def _runs(server: str) -> list[mlflow.entities.Run]:
    client = mlflow.MlflowClient(server)
    experiment = client.get_experiment_by_name("image_vae")
    return client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])


@pytest.fixture(scope="module")
def trainer(tmp_path_factory, project_factory, server, smoke_project) -> Path:
    """The machine that trains: a smoke `kedro run` (2 epochs, small networks and
    grids) logged to the server.

    Its reference classifier is the shared smoke run's (the same 2,000 images),
    so the run does not train one first.
    """
    project = project_factory(tmp_path_factory.mktemp("trainer") / "project")
    set_parameters(project, QUICK_PARAMETERS)
    copy_data(smoke_project, project, MODEL_INPUT[1])
    _kedro(project, server, "run", "--env", "smoke", "--params", "training.epochs=2")
    return project


@pytest.fixture(scope="module")
def user(tmp_path_factory, project_factory, server, trainer, smoke_project) -> Path:
    """Another machine: its own model input (a copy of the shared smoke run's, the
    same 2,000 / 500 images), no saved model, no local store."""
    project = project_factory(tmp_path_factory.mktemp("user") / "project")
    set_parameters(project, QUICK_PARAMETERS)
    copy_data(smoke_project, project, "05_model_input")
    return project


def _check_training_run(client: mlflow.MlflowClient, run: mlflow.entities.Run) -> None:
    """FINISHED, every per-epoch metric, the figures, the data and the model."""
    assert run.info.status == "FINISHED"
    for name in (*LOSSES, *(f"val_{n}" for n in LOSSES)):
        history = client.get_metric_history(run.info.run_id, name)
        assert [m.step for m in history] == list(range(EPOCHS)), name
    assert "test.negative_elbo" in run.data.metrics
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert "figures/training_history.png" in figures and len(figures) >= 6
    assert "training_history.csv" in {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.name == "image_vae"
    assert version.tags["test_negative_elbo"] == (
        f"{run.data.metrics['test.negative_elbo']:.2f}"
    )
    assert version.tags["beta"] == "1" and version.tags["latent_dim"] == "2"


def test_a_run_logs_registers_and_uploads_to_the_server(server, trainer):
    client = mlflow.MlflowClient(server)
    (run,) = _runs(server)
    _check_training_run(client, run)
    assert run.info.run_name == "default β=1 d=2 fashion-mnist[:2000]"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"train_images", "test_images"}
    profile = inputs["train_images"].dataset.profile
    assert '"features_shape": [2000, 32, 32, 1]' in profile
    version = client.get_model_version("image_vae", "1")
    assert version.tags["data_source"] == "fashion-mnist[:2000]"
    assert version.run_id == run.info.run_id
    # Artifacts went to the server, not beside the project.
    assert not (trainer / "mlruns").exists()
    assert not (trainer / "mlflow.db").exists()


def test_another_machine_morphs_with_the_registered_model(server, trainer, user):
    training_run = _runs(server)[0]
    _kedro(
        user,
        server,
        "run",
        "--env",
        "smoke",
        "--pipeline=morph",
        "--params",
        "morph.model_uri=models:/image_vae/latest",
    )
    png = user / "data/08_reporting/morph.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (user / "data/06_models").exists()
    assert not (user / "mlflow.db").exists() and not (user / "mlruns").exists()
    morph_run = _runs(server)[-1]
    assert morph_run.info.status == "FINISHED"
    tags = morph_run.data.tags
    assert tags["pipeline"] == "morph" and tags["model_version"] == "1"
    assert tags["model_name"] == "image_vae"
    assert tags["model_run_id"] == training_run.info.run_id
    assert morph_run.info.run_name == (
        "morph β=1 d=2 fashion-mnist[:2000] from image_vae v1"
    )


def test_another_machine_evaluates_a_registered_version(server, trainer, user):
    training_run = _runs(server)[0]
    _kedro(
        user,
        server,
        "run",
        "--env",
        "smoke",
        "--pipeline=evaluation",
        "--params",
        "evaluation.model_uri=models:/image_vae/1",
    )
    metrics = json.loads((user / "data/08_reporting/test_metrics.json").read_text())
    # The same model on the same 500 test images: the trainer's numbers.
    assert metrics["negative_elbo"] == pytest.approx(
        training_run.data.metrics["test.negative_elbo"], rel=1e-3
    )
    history_png = user / "data/08_reporting/training_history.png"
    assert history_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evaluation_run = _runs(server)[-1]
    assert evaluation_run.info.status == "FINISHED"
    assert evaluation_run.data.tags["model_version"] == "1"
    assert evaluation_run.data.tags["model_run_id"] == training_run.info.run_id


def test_a_uri_that_does_not_resolve_stops_the_run_before_it_starts(
    server, user, monkeypatch
):
    before = len(_runs(server))
    # In-process: what the command says before its work; the real CLI's runs
    # against the server are the other tests'.
    monkeypatch.chdir(user)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    result = cli_in_process(
        user, "run", "--env", "smoke", "--pipeline=morph",
        "--params", "morph.model_uri=models:/image_vae@champion",
    )  # fmt: skip
    line = error_line(result)
    assert line.startswith(
        "Error: morph.model_uri: 'models:/image_vae@champion' does not resolve on "
        f"{server}"
    ), line
    assert "champion" in line.split("does not resolve", 1)[1]
    assert len(_runs(server)) == before


def test_two_runs_at_once_both_finish_and_register_distinct_versions(
    server, trainer, user
):
    """Each on its own slice (small: what is checked is that both finish and
    register): the data inputs differ."""
    args = ["run", "--env", "smoke", "--pipelines=data_processing,training,evaluation"]
    params = f"training.epochs={EPOCHS},data_processing.subset.test=200"
    runs_before = {r.info.run_id for r in _runs(server)}
    processes = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "kedro"), *args, *extra],
            cwd=project,
            env=_env(server),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for project, extra in (
            (trainer, ["--params", f"{params},data_processing.subset.train=600"]),
            (user, ["--params", f"{params},data_processing.subset.train=300"]),
        )
    ]
    for process in processes:
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, output[-5000:]

    client = mlflow.MlflowClient(server)
    new = [r for r in _runs(server) if r.info.run_id not in runs_before]
    assert len(new) == 2
    for run in new:
        _check_training_run(client, run)
    versions = {
        client.search_model_versions(f"run_id = '{r.info.run_id}'")[0].version
        for r in new
    }
    assert len(versions) == 2 and "1" not in versions
    digests = {
        next(
            d.dataset.digest
            for d in r.inputs.dataset_inputs
            if d.dataset.name == "train_images"
        )
        for r in new
    }
    assert len(digests) == 2  # 600 vs 300 training images


def _env(server: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": server,
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
