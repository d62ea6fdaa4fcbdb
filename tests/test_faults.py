"""Bad input, numerical faults and interruptions, through the real hook and CLI."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from image_vae.parameters import ParameterError
from tests_support import error_line, kedro, runs, start_kedro

pytestmark = pytest.mark.slow

# One bad parameter through a real session: refused before any node and any run.
# Every rule of the schema is checked in-process in tests/test_parameters.py.
BAD_PARAMETERS = [
    ({"training": {"beta": -1}}, "training.beta: got -1; allowed: a number ≥ 0"),
    (
        {"data_processing": {"subset": {"train": 70000}}},
        "data_processing.subset.train: got 70000; allowed: at most 60000",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "message"),
    BAD_PARAMETERS,
    ids=[m.split(":")[0] for _, m in BAD_PARAMETERS],
)
def test_bad_parameter_stops_the_run_before_any_node(project_copy, overrides, message):
    bootstrap_project(project_copy)
    with (
        KedroSession.create(
            project_path=project_copy, env="smoke", runtime_params=overrides
        ) as session,
        pytest.raises(ParameterError) as info,
    ):
        session.run()
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert not (project_copy / "data" / "05_model_input" / "train_images.npy").exists()
    assert not (project_copy / "mlflow.db").exists() or runs(project_copy) == []


def test_cli_shows_one_line_and_no_traceback(project_copy):
    result = kedro(
        project_copy,
        "run",
        "--env",
        "smoke",
        "--params",
        "training.beta=-1",
        check=False,
    )
    assert error_line(result) == "Error: training.beta: got -1; allowed: a number ≥ 0.0"


def test_morph_before_any_training_says_to_run_kedro_run_first(project_copy):
    result = kedro(
        project_copy, "run", "--env", "smoke", "--pipeline=morph", check=False
    )
    last = error_line(result)
    assert last.startswith("Error: ") and "vae_model" in last
    assert "run `kedro run` first" in last


def test_nan_loss_fails_the_run_without_saving_a_model(project_copy):
    kedro(project_copy, "run", "--env", "smoke", "--pipeline=data_processing")
    result = kedro(
        project_copy,
        "run",
        "--env",
        "smoke",
        "--params",
        "training.learning_rate=1e10",
        check=False,
    )
    last = error_line(result)
    assert last.startswith("Error: Training loss became nan in epoch 1/1, at batch")
    assert "lower learning rate" in last
    assert not (project_copy / "data" / "06_models" / "vae_model.keras").exists()
    training = [
        r for r in runs(project_copy) if r.data.tags.get("pipeline") == "__default__"
    ]
    assert [r.info.status for r in training] == ["FAILED"]


def test_morph_with_another_latent_dim_says_so(project_copy):
    kedro(project_copy, "run", "--env", "smoke")
    result = kedro(
        project_copy,
        "run",
        "--env",
        "smoke",
        "--pipeline=morph",
        "--params",
        "training.latent_dim=3",
        check=False,
    )
    assert error_line(result) == (
        "Error: training.latent_dim: got 3, but the saved vae_model was trained with "
        "latent_dim=2; run `kedro run --params training.latent_dim=3` to train one, "
        "or drop the override"
    )
    assert [r.info.status for r in runs(project_copy)][-1] == "FAILED"


def test_corrupt_raw_file_is_reported_with_its_path(tmp_path, project_factory):
    project = project_factory(tmp_path / "project")
    raw = project / "data" / "01_raw" / "fashion-mnist"
    source = raw.resolve()
    raw.unlink()
    raw.mkdir()
    for item in source.iterdir():
        (raw / item.name).write_bytes(item.read_bytes())
    labels = raw / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-100]))
    result = kedro(project, "run", "--pipeline=data_processing", check=False)
    assert error_line(result).startswith(f"Error: {labels}: checksum mismatch")


def test_killed_training_resumes_from_its_last_checkpoint(project_copy):
    kedro(project_copy, "run", "--env", "smoke", "--pipeline=data_processing")
    command = [
        "run",
        "--env",
        "smoke",
        "--pipeline=training",
        "--params",
        "training.epochs=6",
    ]
    checkpoints = project_copy / "data" / "06_models" / "checkpoints"
    process = start_kedro(
        project_copy,
        *command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            done = [
                json.loads(p.read_text())["epoch"]
                for p in checkpoints.glob("*/training_metadata.json")
                if p.stat().st_size
            ]
            if done and done[0] >= 2:
                break
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training finished before the kill"

    result = kedro(project_copy, *command)
    output = result.stdout + result.stderr
    assert "resuming from epoch" in output
    history = pd.read_csv(
        project_copy / "data" / "07_model_output" / "training_history.csv"
    )
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert not any(checkpoints.iterdir()), "a completed run removes its checkpoint"
    # SIGKILL gives MLflow no chance: the rerun marks the dead process's run.
    statuses = [r.info.status for r in runs(project_copy)]
    assert statuses[-2:] == ["KILLED", "FINISHED"]
    assert "RUNNING" not in statuses


def test_unknown_pipeline_or_environment_is_one_line(project_copy):
    result = kedro(project_copy, "run", "--pipeline=morf", check=False)
    assert error_line(result).startswith(
        "Error: --pipeline: got 'morf'; allowed: __default__, data_processing,"
    )
    result = kedro(project_copy, "run", "--env", "smok", check=False)
    assert error_line(result) == "Error: --env: got 'smok'; allowed: base, local, smoke"
