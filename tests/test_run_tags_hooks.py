"""The commit a run is tagged with: the project's HEAD, or nothing outside git."""

import shutil
import subprocess

from image_vae.run_tags_hooks import git_commit


def _git(path, *args):
    return subprocess.run(
        ["git", *args], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_git_commit_is_the_work_trees_head(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    _git(tmp_path, "add", "f")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "m")

    assert git_commit(tmp_path) == _git(tmp_path, "rev-parse", "HEAD")


def test_git_commit_is_none_outside_a_work_tree(tmp_path):
    assert git_commit(tmp_path / "nowhere") is None


def test_a_run_naming_one_pipeline_as_kedro_dagster_does_is_tagged_with_it(
    tmp_path, monkeypatch, empty_store
):
    import mlflow
    from kedro.io import DataCatalog
    from kedro.pipeline import Pipeline

    from image_vae.run_tags_hooks import RunTagsHooks

    shutil.copy(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # A URI an earlier in-process test set would outrank the variable.
    mlflow.set_tracking_uri(uri)
    try:
        # Its own experiment: an active experiment left by another test may be gone.
        experiment = mlflow.create_experiment("tags")
        run_params = {
            "pipeline_name": "sweep",
            "env": "smoke",
            "project_path": tmp_path,
        }
        with mlflow.start_run(experiment_id=experiment) as run:
            RunTagsHooks().before_pipeline_run(run_params, Pipeline([]), DataCatalog())
        tags = mlflow.get_run(run.info.run_id).data.tags
    finally:
        mlflow.set_tracking_uri(None)

    assert (tags["pipeline"], tags["kedro_env"]) == ("sweep", "smoke")
