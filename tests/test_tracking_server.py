"""Against a real `mlflow server`: train in one project copy while another trains
at the same time, then morph and evaluate from the registry in a third that has
no model and no local store.

The server has its own backend store and artifact root and serves the artifacts
(clients upload and download over HTTP; no shared disk). Every `kedro run` is
pointed at it by ``MLFLOW_TRACKING_URI`` alone: the two trainings are real
subprocesses; the other machine's morph and evaluation run the project's CLI in
the test process (a real Kedro session without a second start-up).
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


def _kedro_in_process(project: Path, server: str, monkeypatch, *args: str) -> None:
    """``kedro <args>`` in ``project`` against the server, in this process."""
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    try:
        result = cli_in_process(project, *args)
    finally:
        mlflow.set_tracking_uri(None)  # an in-process URI outranks the variable
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _runs(server: str) -> list[mlflow.entities.Run]:
    client = mlflow.MlflowClient(server)
    experiment = client.get_experiment_by_name("image_vae")
    return client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])


# The trainer's run, by its name (the data source is its 2,000-image slice).
TRAINER_RUN = "default β=1 d=2 fashion-mnist[:2000]"


@pytest.fixture(scope="module")
def trainer(tmp_path_factory, project_factory, server, smoke_project) -> Path:
    """The machine that trains: a smoke `kedro run` (2 epochs, small networks and
    grids) logged to the server, while another machine trains on its own slice
    (600 / 200 images) at the same time: two runs at once.

    Its reference classifier is the shared smoke run's (the same 2,000 images),
    so the run does not train one first.
    """
    base = tmp_path_factory.mktemp("trainer")
    project, other = project_factory(base / "project"), project_factory(base / "other")
    for copy in (project, other):
        set_parameters(copy, QUICK_PARAMETERS)
    copy_data(smoke_project, project, MODEL_INPUT[1])
    params = f"training.epochs={EPOCHS}"
    slices = "data_processing.subset.train=600,data_processing.subset.test=200"
    first = _start_kedro(project, server, "run", "--env", "smoke", "--params", params)
    # The second once the first has made the experiment (kedro-mlflow creates
    # it when missing; two creating it at once would collide); its run still
    # starts while the first trains.
    client, deadline = mlflow.MlflowClient(server), time.monotonic() + 300
    while first.poll() is None and time.monotonic() < deadline:
        if client.get_experiment_by_name("image_vae") is not None:
            break
        time.sleep(0.2)
    second = _start_kedro(
        other, server, "run", "--env", "smoke",
        "--pipelines=data_processing,training,evaluation",
        "--params", f"{params},{slices}",
    )  # fmt: skip
    for process in (first, second):
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, output[-5000:]
    return project


def _start_kedro(project: Path, server: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "kedro"), *args],
        cwd=project,
        env=_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _trainer_run(server: str) -> mlflow.entities.Run:
    (run,) = [r for r in _runs(server) if r.info.run_name == TRAINER_RUN]
    return run


def _trained_versions(server: str) -> list:
    """The registered versions, oldest first: the two trainings'."""
    versions = mlflow.MlflowClient(server).search_model_versions("name = 'image_vae'")
    return sorted(versions, key=lambda v: int(v.version))


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
    run = _trainer_run(server)
    _check_training_run(client, run)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"train_images", "test_images"}
    profile = inputs["train_images"].dataset.profile
    assert '"features_shape": [2000, 32, 32, 1]' in profile
    (version,) = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert version.tags["data_source"] == "fashion-mnist[:2000]"
    assert client.get_model_version("image_vae", version.version).run_id == (
        run.info.run_id
    )
    # Artifacts went to the server, not beside the project.
    assert not (trainer / "mlruns").exists()
    assert not (trainer / "mlflow.db").exists()


def test_another_machine_morphs_with_the_registered_model(
    server, trainer, user, monkeypatch
):
    latest = _trained_versions(server)[-1]  # whichever training registered last
    _kedro_in_process(
        user,
        server,
        monkeypatch,
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
    assert tags["pipeline"] == "morph" and tags["model_version"] == latest.version
    assert tags["model_name"] == "image_vae"
    assert tags["model_run_id"] == latest.run_id
    assert morph_run.info.run_name == (
        f"morph β=1 d=2 fashion-mnist[:2000] from image_vae v{latest.version}"
    )


def test_another_machine_evaluates_a_registered_version(
    server, trainer, user, monkeypatch
):
    training_run = _trainer_run(server)
    client = mlflow.MlflowClient(server)
    (version,) = client.search_model_versions(f"run_id = '{training_run.info.run_id}'")
    _kedro_in_process(
        user,
        server,
        monkeypatch,
        "run",
        "--env",
        "smoke",
        "--pipeline=evaluation",
        "--params",
        f"evaluation.model_uri=models:/image_vae/{version.version}",
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
    assert evaluation_run.data.tags["model_version"] == version.version
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


def test_two_runs_at_once_both_finish_and_register_distinct_versions(server, trainer):
    """The trainer's run and the other machine's, started together (``trainer``),
    each on its own slice: both finish, register, and record different data."""
    client = mlflow.MlflowClient(server)
    versions = _trained_versions(server)
    assert [v.version for v in versions] == ["1", "2"]
    trained = [client.get_run(v.run_id) for v in versions]
    assert len({r.info.run_id for r in trained}) == 2
    for run in trained:
        _check_training_run(client, run)
    assert _trainer_run(server).info.run_id in {r.info.run_id for r in trained}
    digests = {
        next(
            d.dataset.digest
            for d in r.inputs.dataset_inputs
            if d.dataset.name == "train_images"
        )
        for r in trained
    }
    assert len(digests) == 2  # 2000 vs 600 training images


def _env(server: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": server,
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
