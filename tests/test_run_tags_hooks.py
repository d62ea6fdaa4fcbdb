"""The commit a run is tagged with: the project's HEAD, or nothing outside git."""

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
    tmp_path, tracking_store
):
    import mlflow
    from kedro.io import DataCatalog
    from kedro.pipeline import Pipeline

    from image_vae.run_tags_hooks import RunTagsHooks

    experiment = mlflow.create_experiment("tags")
    run_params = {
        "pipeline_name": "sweep",
        "env": "smoke",
        "project_path": tmp_path,
    }
    with mlflow.start_run(experiment_id=experiment) as run:
        RunTagsHooks().before_pipeline_run(run_params, Pipeline([]), DataCatalog())
    tags = mlflow.get_run(run.info.run_id).data.tags

    assert (tags["pipeline"], tags["kedro_env"]) == ("sweep", "smoke")
