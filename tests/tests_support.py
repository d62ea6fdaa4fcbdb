"""Helpers for tests that drive the real `kedro` CLI in a project copy."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml

# The figures every `kedro run` writes to 08_reporting and logs under figures/.
FIGURES = (
    "training_history",
    "reconstructions",
    "latent_scatter",
    "prior_samples",
    "latent_manifold",
    "latent_path",
)


def start_kedro(project: Path, *args: str, **popen: object) -> subprocess.Popen:
    """Starts the real ``kedro`` CLI in ``project`` without waiting for it."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri(project)}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "kedro"), *args],
        cwd=project,
        env=env,
        **popen,
    )


def tracking_uri(project: Path) -> str:
    return f"sqlite:///{project / 'mlflow.db'}"


def kedro(
    project: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Runs the real ``kedro`` CLI in ``project``; output captured as text.

    MLflow logs to the copy's own SQLite store unless ``env`` says otherwise.
    """
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri(project),
        "KEDRO_DISABLE_TELEMETRY": "true",
        "COLUMNS": "200",
        **(env or {}),
    }
    result = subprocess.run(  # noqa: PLW1510  the caller checks the result
        [str(Path(sys.executable).parent / "kedro"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        pytest.fail(f"kedro {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def runs(project: Path) -> list[mlflow.entities.Run]:
    client = mlflow.MlflowClient(tracking_uri(project))
    experiment = client.get_experiment_by_name("image_vae")
    return client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])


def model_versions(project: Path) -> list[str]:
    return sorted(
        p.name for p in (project / "data/06_models/vae_model.keras").iterdir()
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a failed ``kedro`` command ends with, after checking it failed
    cleanly: exit code 1 and no traceback anywhere in its output."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr.strip().splitlines()[-1]


# What the sweep and a lone training need besides the raw files: the model
# input and the smoke reference classifier.
MODEL_INPUT = ("05_model_input", "06_models/reference_classifier_smoke.keras")


def copy_data(source: Path, project: Path, *paths: str) -> Path:
    """Copies ``data/<path>`` (files or folders) of ``source`` into ``project``.

    Lets a test start from the shared smoke run's outputs instead of running the
    pipelines that make them again.
    """
    for path in paths:
        origin, target = source / "data" / path, project / "data" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target)
        else:
            shutil.copy2(origin, target)
    return project


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname:>8} {record.getMessage()}")


def cli_in_process(project: Path, *args: str) -> subprocess.CompletedProcess:
    """The project's ``kedro`` command run in this process (Click's runner) in
    ``project``, the working directory, as a CompletedProcess for ``error_line``:
    what the command printed is its stderr, the messages it logged (INFO and
    above, one a line after its level, as in a log: ``"    INFO Running node:
    ..."``, without tracebacks) its stdout. Python warnings raised in this
    process go to pytest's warnings summary, not there.

    For checks of what a command says or writes; the real CLI's start-up and
    signal handling keep their subprocess tests.
    """
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from image_vae.cli import cli

    assert Path.cwd().resolve() == project.resolve(), "chdir to the project first"
    bootstrap_project(project)  # configures logging: the handler comes after
    messages = _Messages()
    logging.getLogger().addHandler(messages)
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        logging.getLogger().removeHandler(messages)
    while mlflow.active_run():
        mlflow.end_run()
    log = "\n".join(messages.lines)
    return subprocess.CompletedProcess(args, result.exit_code, log, result.output)


# For runs whose test checks what a run records and where, not what it learns:
# small networks and evaluation grids (the smoke run's other values stay).
QUICK_PARAMETERS = {
    "training": {"filters": [8, 16, 32]},
    "evaluation": {
        "iwae_samples": 4,
        "iwae_images": 50,
        "manifold_size": 4,
        "explorer": {"grid_size": 8, "walk_steps": 3},
    },
}


def _merge(into: dict, update: dict) -> dict:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def set_parameters(project: Path, overrides: dict, env: str = "smoke") -> None:
    """Writes ``overrides`` into the copy's ``conf/<env>/parameters_<section>.yml``
    files (merged key by key, as the smoke environment itself is over base).

    For commands that take no ``--params`` (a Dagster job), and for lists, which
    ``--params`` would split at their commas.
    """
    for section, values in overrides.items():
        path = project / "conf" / env / f"parameters_{section}.yml"
        current = yaml.safe_load(path.read_text()) if path.exists() else None
        current = current or {}
        current[section] = _merge(current.get(section) or {}, values)
        path.write_text(yaml.safe_dump(current))


def slice_model_input(project: Path, train: int, test: int) -> None:
    """Keeps the first ``train`` / ``test`` images (and labels) of the copy's model
    input: shorter epochs and evaluations."""
    model_input = project / "data" / "05_model_input"
    for split, n in (("train", train), ("test", test)):
        for kind in ("images", "labels"):
            path = model_input / f"{split}_{kind}.npy"
            np.save(path, np.load(path)[:n])
