"""Hooks for a shared tracking server: models from the registry, names, lineage.

kedro-mlflow opens one MLflow run per ``kedro run`` and logs what the catalog
says; these hooks add what a team needs when many machines log to one server:

- :class:`RegisteredModelHooks`: with ``morph.model_uri`` or
  ``evaluation.model_uri`` set, the run uses that MLflow model (registry or run)
  instead of the local ``vae_model``, checked before any work starts;
- :class:`RunLineageHooks`: a run name a person can tell apart
  (``default β=1 d=2 fashion-mnist``), the experiment shown in MLflow's
  model-training view, the data each run read (``mlflow.log_input``), the model a
  run used (``model_name``, ``model_version``, ``model_run_id`` tags) and, once a
  training run has been evaluated, its registered model version tagged with β,
  latent size, data source and test −ELBO.

:func:`tracking_hooks` builds both around one shared state.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from image_vae.model_source import (
    ModelSource,
    ModelUriError,
    check_model_fits,
    load_model,
    resolve_model_uri,
)

logger = logging.getLogger(__name__)

MODEL_DATASET = "vae_model"
HISTORY_DATASET = "training_history"
# The experiment tag MLflow 3's UI reads to choose the experiment's view
# (mlflow/server/js: ExperimentKind.CUSTOM_MODEL_DEVELOPMENT); without it the
# UI opens the GenAI view.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
# Model inputs recorded as the run's data, and the role each plays.
LINEAGE_INPUTS = {"train_images": "training", "test_images": "evaluation"}
_URI_SECTIONS = ("morph", "evaluation")


@dataclass
class _RunState:
    source: ModelSource | None = None
    model: Any = None
    run_id: str | None = None
    data_source: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    logged_inputs: set[str] = field(default_factory=set)


class RegisteredModelHooks:
    """Replaces ``vae_model`` by the model at ``<section>.model_uri``, checked."""

    def __init__(self, state: _RunState) -> None:
        self.state = state

    # A wrapper runs before every plain before_pipeline_run hook, whatever the
    # registration order: the parameter check's "vae_model not found" must see
    # the model from MLflow, and a bad URI must leave no MLflow run behind.
    @hook_impl(wrapper=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ):
        import mlflow

        self.state.source = self.state.model = None
        params = catalog.load("parameters")
        names = _pipeline_names(run_params)
        requested = requested_model_uri(pipeline, params, names)
        if requested is not None:
            parameter, uri = requested
            client = mlflow.MlflowClient()
            source = resolve_model_uri(uri, parameter, client)
            model = load_model(source, parameter, client)
            check_model_fits(
                model,
                source,
                parameter,
                (params.get("training") or {}).get("latent_dim"),
                model_input_shape(catalog, params),
            )
            # "assign": the node gets the loaded model itself, not a deep copy.
            catalog[MODEL_DATASET] = MemoryDataset(model, copy_mode="assign")
            if HISTORY_DATASET in pipeline.inputs():
                catalog[HISTORY_DATASET] = _history_of(source, parameter, client)
            self.state.source, self.state.model = source, model
            logger.info("vae_model from %s (%s)", uri, source.load_uri)
        return (yield)


class RunLineageHooks:
    """Names the run, records its data and model, tags the registered version."""

    def __init__(self, state: _RunState) -> None:
        self.state = state

    # Default ordering: after kedro-mlflow's hook has started the run.
    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        import mlflow

        self.state.run_id = None
        self.state.logged_inputs.clear()
        run = mlflow.active_run()
        if run is None:
            return
        client = mlflow.MlflowClient()
        self.state.run_id = run.info.run_id
        experiment = client.get_experiment(run.info.experiment_id)
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
            client.set_experiment_tag(
                experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
            )
        params = catalog.load("parameters")
        self.state.data_source = data_source(catalog, params)
        self.state.sources = {
            name: f"{self.state.data_source}/{name}" for name in LINEAGE_INPUTS
        }
        names = _pipeline_names(run_params)
        client.update_run(
            run.info.run_id,
            name=run_name(
                names,
                params,
                self.state.data_source,
                self.state.source,
                self.state.model,
            ),
        )
        tags = {"data_source": self.state.data_source}
        if self.state.source is not None:
            tags |= self.state.source.run_tags()
        mlflow.set_tags(tags)

    @hook_impl
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None or run.info.run_id != self.state.run_id:
            return  # a sweep's nested β run: the parent records the data
        for name, context in LINEAGE_INPUTS.items():
            if name in inputs and name not in self.state.logged_inputs:
                with warnings.catch_warnings():
                    # MLflow registers its local-file source for "" and "file://"
                    # alike and warns that a path matches both; either is right.
                    warnings.filterwarnings("ignore", "The specified dataset source")
                    dataset = mlflow.data.from_numpy(
                        inputs[name], source=self.state.sources[name], name=name
                    )
                mlflow.log_input(dataset, context=context)
                self.state.logged_inputs.add(name)

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        import mlflow

        if self.state.run_id is None:
            return
        client = mlflow.MlflowClient()
        versions = client.search_model_versions(f"run_id = '{self.state.run_id}'")
        if not versions:
            return
        run = client.get_run(self.state.run_id)
        training = catalog.load("parameters").get("training") or {}
        tags = {
            "beta": f"{float(training.get('beta', 1.0)):g}",
            "latent_dim": str(training.get("latent_dim")),
            "data_source": self.state.data_source,
            "kedro_env": str(run_params.get("env")),
        }
        elbo = run.data.metrics.get("test.negative_elbo")
        if elbo is not None:
            tags["test_negative_elbo"] = f"{elbo:.2f}"
        for version in versions:
            for key, value in tags.items():
                client.set_model_version_tag(version.name, version.version, key, value)
            logger.info("Registered %s version %s", version.name, version.version)


def tracking_hooks() -> tuple[RegisteredModelHooks, RunLineageHooks]:
    """The hooks of this module, sharing the model each run used."""
    state = _RunState()
    return RegisteredModelHooks(state), RunLineageHooks(state)


def requested_model_uri(
    pipeline: Pipeline, params: dict[str, Any], pipeline_names: list[str]
) -> tuple[str, str] | None:
    """``(parameter, uri)`` when the pipeline run sets ``<its name>.model_uri``.

    ``morph.model_uri`` applies to ``--pipeline=morph``, ``evaluation.model_uri``
    to ``--pipeline=evaluation`` (and would to ``kedro run``, which trains).

    Raises:
        ModelUriError: The URIs of two sections differ, or the run trains the
            model it would replace.
    """
    sections = set(pipeline_names) | (
        {"evaluation"} if "__default__" in pipeline_names else set()
    )
    given = {}
    for section in _URI_SECTIONS:
        values = params.get(section)
        if section in sections and isinstance(values, dict) and values.get("model_uri"):
            given[f"{section}.model_uri"] = str(values["model_uri"])
    if not given:
        return None
    if len(set(given.values())) > 1:
        raise ModelUriError(
            f"{' and '.join(given)} name different models "
            f"({', '.join(map(repr, given.values()))}); allowed: one model per run"
        )
    parameter, uri = next(iter(given.items()))
    if MODEL_DATASET in pipeline.all_outputs():
        raise ModelUriError(
            f"{parameter}: got {uri!r}, but this run trains vae_model itself; "
            "allowed: only with a pipeline that uses a trained model "
            "(--pipeline=morph or --pipeline=evaluation)"
        )
    return (parameter, uri) if MODEL_DATASET in pipeline.inputs() else None


def model_input_shape(
    catalog: DataCatalog, params: dict[str, Any]
) -> tuple[int, ...] | None:
    """``(H, W, C)`` of the model input data processing wrote, if it did."""
    del params  # the shape is read from the model input itself
    if "train_images" not in catalog or not catalog.exists("train_images"):
        return None
    try:
        images = catalog.load("train_images")  # memory-mapped: the header only
    except Exception:
        return None
    return tuple(int(size) for size in images.shape[1:])


def data_source(catalog: DataCatalog, params: dict[str, Any]) -> str:
    """``fashion-mnist``, or the folder (IDX file) name; ``[:n]`` for a subset."""
    del catalog  # the parameters say which data a run reads
    data = params.get("data_processing") or {}
    source = data.get("source") or "fashion_mnist"
    if source == "fashion_mnist" or not data.get("path"):
        name = source.replace("_", "-")
    else:
        path = PurePosixPath(str(data["path"]).rstrip("/"))
        name = path.name if source == "folder" else path.name.split(".")[0]
    subset = (data.get("subset") or {}).get("train")
    return f"{name}[:{subset}]" if subset else name


def run_name(
    pipeline_names: list[str],
    params: dict[str, Any],
    data: str,
    source: ModelSource | None,
    model: Any = None,
) -> str:
    """``default β=1 d=2 fashion-mnist``; a run on a registered model names it."""
    pipeline = "+".join(
        "default" if name == "__default__" else name for name in pipeline_names
    )
    training = params.get("training") or {}
    beta, latent_dim = training.get("beta"), training.get("latent_dim")
    if model is not None:
        beta, latent_dim = getattr(model, "beta", beta), model.latent_dim
    if "sweep" in pipeline_names:
        betas = (params.get("sweep") or {}).get("betas") or [beta]
        beta = ",".join(f"{float(b):g}" for b in betas)
    elif beta is not None:
        beta = f"{float(beta):g}"
    parts = [pipeline, f"β={beta}", f"d={latent_dim}", data]
    if source is not None:
        parts.append(f"from {source.describe()}")
    return " ".join(parts)


def _pipeline_names(run_params: dict[str, Any]) -> list[str]:
    """The pipelines run: ``pipeline_names`` (kedro run) or ``pipeline_name``."""
    names = run_params.get("pipeline_names") or run_params.get("pipeline_name")
    if isinstance(names, str):
        return [names]
    return list(names or ["__default__"])


def _history_of(source: ModelSource, parameter: str, client: Any) -> MemoryDataset:
    """The training history logged by the run that trained the model.

    Loaded now, not when the node runs: the check that inputs exist runs before
    the pipeline and would find no local file.
    """
    import tempfile

    from kedro_mlflow.io.artifacts import MlflowArtifactDataset

    logged = (
        {a.path for a in client.list_artifacts(source.run_id)}
        if source.run_id
        else set()
    )
    if "training_history.csv" not in logged:
        raise ModelUriError(
            f"{parameter}: the run that logged {source.uri!r} has no "
            "training_history.csv artifact (trained before it was logged); "
            "allowed: a model from a `kedro run` that logs its history"
        )
    folder = tempfile.mkdtemp(prefix="image_vae_history_")
    history = MlflowArtifactDataset(
        dataset={
            "type": "pandas.CSVDataset",
            "filepath": f"{folder}/training_history.csv",
        },
        run_id=source.run_id,
    )
    return MemoryDataset(history.load())
