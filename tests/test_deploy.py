"""The smoke sweep deployed to Dagster (kedro-dagster) and run on two workers.

Dagster's own records (the run's event log in a throw-away ``DAGSTER_HOME``) say
when each step started and ended: the two βs' trainings overlap, and the summary
starts after both. MLflow's store holds one run per β, nested under the sweep's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from kedro.framework.project import configure_project, pipelines
from kedro.framework.session import KedroSession
from kedro.io import MemoryDataset

from tests_support import (
    MODEL_INPUT,
    QUICK_PARAMETERS,
    copy_data,
    set_parameters,
    slice_model_input,
    tracking_uri,
)

pytestmark = pytest.mark.slow

TRAININGS = ("sweep__beta_0_5__train_vae_model", "sweep__beta_2__train_vae_model")
SUMMARY = "sweep__summarise_sweep"
DAGSTER_INSTANCE = """\
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
telemetry:
  enabled: false
"""


@pytest.fixture(scope="module")
def dagster():
    """Imported by these tests alone: every test process collects this file."""
    return pytest.importorskip("dagster", reason="needs the deploy extra")


@pytest.mark.parametrize("env", ["base", "smoke"])
def test_deployed_pipelines_hand_data_over_persisted_datasets_only(
    dagster, project_factory, tmp_path, monkeypatch, env
):
    project = project_factory(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.setenv("KEDRO_ENV", env)
    configure_project("image_vae")
    try:
        with KedroSession.create(project_path=project, env=env) as session:
            catalog = session.load_context().catalog
            for name in ("__default__", "sweep"):
                pipeline = pipelines[name]
                read = {d for n in pipeline.nodes for d in n.inputs}
                handed = read & pipeline.all_outputs()
                in_memory = sorted(
                    d for d in handed if isinstance(catalog.get(d), MemoryDataset)
                )
                assert handed and in_memory == [], (name, in_memory)
    finally:
        configure_project("image_vae")


def _step_times(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) of every successful step, from the run's event log."""
    starts, ends = {}, {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            ends[event.step_key] = record.timestamp
    return {key: (starts[key], ends[key]) for key in ends}


def test_smoke_sweep_on_two_dagster_workers_trains_the_betas_at_once(
    dagster, project_copy, smoke_project, tmp_path
):
    # What is checked is where and when the steps ran and what they recorded:
    # a slice of the model input and small networks keep each step short.
    copy_data(smoke_project, project_copy, *MODEL_INPUT)
    slice_model_input(project_copy, train=600, test=200)
    set_parameters(project_copy, QUICK_PARAMETERS)
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Dagster's own stdout/stderr capture starts four processes per step (two
    # `tail -F`, two watchers); nothing here reads those files.
    (home / "dagster.yaml").write_text(DAGSTER_INSTANCE)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KEDRO_ENV": "smoke",
        "DAGSTER_WORKERS": "2",
        "MLFLOW_TRACKING_URI": tracking_uri(project_copy),
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
    result = subprocess.run(  # noqa: PLW1510  checked below
        [
            str(Path(sys.executable).parent / "dagster"),
            "job",
            "execute",
            "-m",
            "image_vae.definitions",
            "-j",
            "smoke__sweep",
        ],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    instance = dagster.DagsterInstance.from_config(str(home))
    (run,) = instance.get_runs()
    assert run.status == dagster.DagsterRunStatus.SUCCESS
    times = _step_times(instance, run.run_id)
    (a_start, a_end), (b_start, b_end) = (times[key] for key in TRAININGS)
    assert a_start < b_end and b_start < a_end  # the two trainings overlapped
    assert times[SUMMARY][0] > max(a_end, b_end)

    client = mlflow.MlflowClient(tracking_uri(project_copy))
    experiment = client.get_experiment_by_name("image_vae")
    found = client.search_runs([experiment.experiment_id])
    (sweep,) = [r for r in found if r.data.tags.get("pipeline") == "sweep"]
    assert sweep.data.tags["dagster_run_id"] == run.run_id
    children = [r for r in found if r.data.tags.get("sweep_id") == sweep.info.run_id]
    children = [r for r in children if r.info.run_id != sweep.info.run_id]
    assert sorted(float(r.data.tags["sweep_beta"]) for r in children) == [0.5, 2.0]
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == sweep.info.run_id
        assert child.info.status == "FINISHED"
        metrics = set(child.data.metrics)
        assert {"loss", "test.iwae_nll", "sample_quality.fid"} <= metrics
    figures = client.list_artifacts(sweep.info.run_id, "figures")
    assert [a.path for a in figures] == ["figures/rate_distortion.png"]
