"""Hooks of the quality pipelines: pipelines fitted to the session, nested runs.

Kedro registers pipelines without knowing the environment or the parameters
(``--env smoke``, ``--params``). The sweep depends on them, so
:class:`SessionPipelinesHooks` gives ``sweep`` one namespaced model per
``sweep.betas`` of this session once the session's context exists, before Kedro
looks the requested pipeline up.

:func:`sweep_run_hooks` gives each β of the sweep its own MLflow run, nested
under the run kedro-mlflow opens and tagged with its id as ``sweep_id``: metrics
streamed while the β's model trains, and the catalog's metrics and figures
saved by the β's nodes, land in the β's run; the summary lands in the parent.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines
from kedro.pipeline import Node

# Project settings import this module for every Kedro command: the sweep's
# pipeline module (and TensorFlow with it) is imported only when a hook runs.

logger = logging.getLogger(__name__)


class SessionPipelinesHooks:
    """Fits ``sweep`` to the session's configuration."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        # `in pipelines` loads the registry: only the requested pipelines exist.
        from pydantic import ValidationError

        from image_vae.parameters import SweepParams
        from image_vae.pipelines.sweep.pipeline import SWEEP_NAMESPACE, create_pipeline

        if SWEEP_NAMESPACE in pipelines:
            try:
                sweep = SweepParams.model_validate(context.params.get("sweep") or {})
            except ValidationError:
                pass  # the parameter check names the problem before any node runs
            else:
                pipelines[SWEEP_NAMESPACE] = create_pipeline(sweep.betas)


class _SweepRuns:
    """The nested MLflow run of each β namespace in this pipeline run."""

    def __init__(self) -> None:
        self.by_namespace: dict[str, str] = {}

    def active_child(self) -> bool:
        run = mlflow.active_run()
        return run is not None and run.info.run_id in self.by_namespace.values()


class _OpenSweepRun:
    """Makes the node's β run the active one, after kedro-mlflow's own hook.

    kedro-mlflow re-activates its run before every node; running last, this
    puts the β's run on top of it for the node and the saving of its outputs.
    """

    def __init__(self, runs: _SweepRuns) -> None:
        self.runs = runs

    @hook_impl
    def before_pipeline_run(self) -> None:
        self.runs.by_namespace.clear()

    @hook_impl(trylast=True)
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        from image_vae.pipelines.sweep.pipeline import TRAINING_PARAMS, namespace_beta

        namespace = _beta_namespace(node)
        parent = mlflow.active_run()
        if namespace is None or parent is None:
            return
        child = self.runs.by_namespace.get(namespace)
        if child is not None:
            mlflow.start_run(run_id=child, nested=True)
        else:
            beta = namespace_beta(namespace)
            sweep_id = parent.info.run_id
            mlflow.set_tag("sweep_id", sweep_id)
            run = mlflow.start_run(
                run_name=f"beta={beta:g}",
                nested=True,
                tags={"sweep_id": sweep_id, "sweep_beta": f"{beta:g}"},
            )
            self.runs.by_namespace[namespace] = run.info.run_id
            logger.info("MLflow run %s for β = %g of the sweep", run.info.run_id, beta)
        training = inputs.get(f"{namespace}.{TRAINING_PARAMS}")
        if training is not None:
            mlflow.log_params({f"training.{k}": v for k, v in training.items()})


class _CloseSweepRun:
    """Ends the active β run before the next node, and when the pipeline ends."""

    def __init__(self, runs: _SweepRuns) -> None:
        self.runs = runs

    @hook_impl(tryfirst=True)
    def before_node_run(self) -> None:
        self._end("FINISHED")

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self) -> None:
        self._end("FINISHED")

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self) -> None:
        self._end("FAILED")

    def _end(self, status: str) -> None:
        if self.runs.active_child():
            mlflow.end_run(status)


def sweep_run_hooks() -> tuple[object, object]:
    """The two hooks (sharing their runs) that give each β its nested run."""
    runs = _SweepRuns()
    return _CloseSweepRun(runs), _OpenSweepRun(runs)


def _beta_namespace(node: Node) -> str | None:
    """``"sweep.beta_0_5"`` for a node of that β's model, else ``None``."""
    from image_vae.pipelines.sweep.pipeline import SWEEP_NAMESPACE

    parts = (node.namespace or "").split(".")
    if len(parts) < 2 or parts[0] != SWEEP_NAMESPACE:
        return None
    return ".".join(parts[:2])
