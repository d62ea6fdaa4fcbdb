"""Bad input, numerical faults and interruptions, through the real hook and CLI."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from image_vae.parameters import ParameterError
from image_vae.run_status import REASON_TAG
from tests_support import (
    MODEL_INPUT,
    cli_in_process,
    copy_data,
    error_line,
    runs,
    slice_model_input,
    start_kedro,
)

pytestmark = pytest.mark.slow

# Epochs of the interrupted training: the signals land after epochs 1, 2 and 3.
EPOCHS = 6

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
    # The project's CLI in this process; the real one's last line and exit code
    # are checked by the signals test below.
    result = cli_in_process(
        project_copy, "run", "--env", "smoke", "--params", "training.beta=-1"
    )
    assert error_line(result) == "Error: training.beta: got -1; allowed: a number ≥ 0.0"


def test_morph_before_any_training_says_to_run_kedro_run_first(project_copy):
    result = cli_in_process(project_copy, "run", "--env", "smoke", "--pipeline=morph")
    last = error_line(result)
    assert last.startswith("Error: ") and "vae_model" in last
    assert "run `kedro run` first" in last


def test_nan_loss_fails_the_run_without_saving_a_model(project_copy, smoke_project):
    copy_data(smoke_project, project_copy, *MODEL_INPUT)
    result = cli_in_process(
        project_copy, "run", "--env", "smoke", "--params", "training.learning_rate=1e10"
    )
    last = error_line(result)
    assert last.startswith("Error: Training loss became nan in epoch 1/1, at batch")
    assert "lower learning rate" in last
    assert not (project_copy / "data" / "06_models" / "vae_model.keras").exists()
    training = [
        r for r in runs(project_copy) if r.data.tags.get("pipeline") == "__default__"
    ]
    assert [r.info.status for r in training] == ["FAILED"]


def test_morph_with_another_latent_dim_says_so(project_copy, smoke_project):
    copy_data(
        smoke_project, project_copy, "05_model_input", "06_models/vae_model.keras"
    )
    result = cli_in_process(
        project_copy, "run", "--env", "smoke", "--pipeline=morph",
        "--params", "training.latent_dim=3",
    )  # fmt: skip
    assert error_line(result) == (
        "Error: training.latent_dim: got 3, but the saved vae_model was trained with "
        "latent_dim=2; run `kedro run --params training.latent_dim=3` to train one, "
        "or drop the override"
    )
    assert [r.info.status for r in runs(project_copy)][-1] == "FAILED"


def test_corrupt_raw_file_is_reported_with_its_path(project_copy):
    project = project_copy
    raw = project / "data" / "01_raw" / "fashion-mnist"
    source = raw.resolve()
    raw.unlink()
    raw.mkdir()
    for item in source.iterdir():
        (raw / item.name).write_bytes(item.read_bytes())
    labels = raw / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-100]))
    result = cli_in_process(project, "run", "--pipeline=data_processing")
    assert error_line(result).startswith(f"Error: {labels}: checksum mismatch")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _completed_epochs(checkpoints: Path) -> int:
    """Epochs in the training backup (0 while there is none or it is being written)."""
    for path in checkpoints.glob("*/training_metadata.json"):
        try:
            return json.loads(path.read_text())["epoch"]
        except (OSError, ValueError, KeyError):
            return 0
    return 0


def _start_and_wait_for_epoch(
    project: Path, command: list[str], epoch: int, stderr: Path
) -> subprocess.Popen:
    """Starts the real CLI, its stderr to a file (a pipe nobody reads while we
    wait could fill up and stall it); returns once the backup holds ``epoch``
    epochs, or the process has ended (the caller's exit-code check then fails)."""
    with stderr.open("w") as err:
        process = start_kedro(
            project,
            *command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            # As in a terminal: a test runner started in the background
            # (`cmd &`) ignores SIGINT, and its children would inherit that.
            preexec_fn=_default_sigint,
        )
    checkpoints = project / "data" / "06_models" / "checkpoints"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if _completed_epochs(checkpoints) >= epoch:
            break
        time.sleep(0.02)
    return process


def test_signals_end_the_run_killed_and_the_rerun_resumes(project_copy, smoke_project):
    """Ctrl-C, SIGTERM and SIGKILL, each in the middle of the same training (one
    epoch further each time), then the same command once more: it resumes from
    the last checkpoint and finishes."""
    # A slice of the shared smoke run's model input: short epochs.
    copy_data(smoke_project, project_copy, "05_model_input")
    slice_model_input(project_copy, train=600, test=200)
    command = ["run", "--env", "smoke", "--pipeline=training", "--params"]
    command.append(f"training.epochs={EPOCHS}")

    for epoch, sig, name in (
        (1, signal.SIGINT, "Ctrl-C"),
        (2, signal.SIGTERM, "SIGTERM"),
    ):
        log = project_copy.parent / f"stderr_{name}.txt"
        process = _start_and_wait_for_epoch(project_copy, command, epoch, log)
        process.send_signal(sig)
        process.wait(timeout=120)
        stderr = log.read_text()
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert (
            stderr.strip().splitlines()[-1].startswith(f"Error: interrupted by {name}")
        )
        killed = runs(project_copy)[-1]
        assert killed.info.status == "KILLED"
        assert killed.data.tags[REASON_TAG].startswith(f"interrupted by {name}")
        assert not (project_copy / "data" / "06_models" / "vae_model.keras").exists()

    log = project_copy.parent / "stderr_SIGKILL.txt"
    process = _start_and_wait_for_epoch(project_copy, command, 3, log)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL, "training finished before the kill"

    # The same command once more, in this process: a real session, one start-up less.
    result = cli_in_process(project_copy, *command)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "resuming from epoch" in output
    history = pd.read_csv(
        project_copy / "data" / "07_model_output" / "training_history.csv"
    )
    assert history["epoch"].tolist() == list(range(1, EPOCHS + 1))
    checkpoints = project_copy / "data" / "06_models" / "checkpoints"
    assert not any(checkpoints.iterdir()), "a completed run removes its checkpoint"
    # SIGKILL gives MLflow no chance: the rerun marks the dead process's run.
    ended = runs(project_copy)
    assert [r.info.status for r in ended] == ["KILLED", "KILLED", "KILLED", "FINISHED"]
    assert "SIGKILL" in ended[2].data.tags[REASON_TAG]


def test_unknown_pipeline_or_environment_is_one_line(project_copy):
    result = cli_in_process(project_copy, "run", "--pipeline=morf")
    assert error_line(result).startswith(
        "Error: --pipeline: got 'morf'; allowed: __default__, data_processing,"
    )
    result = cli_in_process(project_copy, "run", "--env", "smok")
    assert error_line(result) == "Error: --env: got 'smok'; allowed: base, local, smoke"
