"""Run tags: what is needed to find and reproduce each MLflow run."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

MODEL_DATASET = "vae_model"


class RunTagsHooks:
    """Tags each MLflow run with what is needed to find and reproduce it.

    ``pipeline``, ``kedro_env`` and ``git_commit`` on every run; the training run
    gets ``vae_model_version`` (the Kedro version of the model it saved), and a run
    that reuses a saved model (``morph``) gets ``model_run_id``: the run that
    trained it.
    """

    # Default ordering: runs after kedro-mlflow's hook has started the run.
    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None:
            return
        # kedro-dagster's runs name one pipeline, as `pipeline_name`.
        names = run_params.get("pipeline_names") or [
            run_params.get("pipeline_name") or "__default__"
        ]
        tags = {"pipeline": "+".join(names), "kedro_env": str(run_params.get("env"))}
        commit = git_commit(Path(run_params.get("project_path") or "."))
        if commit:
            tags["git_commit"] = commit
        if MODEL_DATASET in catalog:
            model = catalog.get(MODEL_DATASET)
            if MODEL_DATASET in pipeline.all_outputs():
                tags["vae_model_version"] = model.resolve_save_version()
            elif MODEL_DATASET in pipeline.inputs() and hasattr(
                model, "resolve_load_version"
            ):  # the local saved model; one from MLflow is tagged by tracking_hooks
                source = _run_that_saved(model.resolve_load_version(), run)
                if source:
                    tags["model_run_id"] = source
        mlflow.set_tags(tags)


def _run_that_saved(version: str | None, current: Any) -> str | None:
    """The id of the run tagged with model ``version`` in the current experiment."""
    import mlflow

    if not version:
        return None
    found = mlflow.search_runs(
        experiment_ids=[current.info.experiment_id],
        filter_string=f"tags.vae_model_version = '{version}'",
        output_format="list",
        max_results=1,
    )
    return found[0].info.run_id if found else None


def git_commit(project_path: Path) -> str | None:
    """The checked-out commit of the project, or ``None`` outside a git work tree."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None
