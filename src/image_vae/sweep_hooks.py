"""Hooks of the sweep: its βs checked, one nested MLflow run per β, progress.

The registry builds ``sweep`` from the configured ``sweep.betas``
(``pipelines/sweep/configured.py``); :class:`SweepBetasHooks` refuses a run
whose parameters ask for other βs, before any node runs.

:func:`sweep_run_hooks` gives each β of the sweep its own MLflow run, nested
under the run kedro-mlflow opens (or the one an orchestrator opened for it) and
tagged with its id as ``sweep_id``: metrics streamed while the β's model trains,
and the catalog's metrics and figures saved by the β's nodes, land in the β's
run; the summary lands in the parent. The β's run is found again by its tags, so
nodes of one β that run as separate processes (an orchestrator's tasks) share it.

:class:`SweepProgressHooks` logs which of the sweep's models is training, and
after each model how many are done and about how long the rest will take.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

if TYPE_CHECKING:
    import mlflow

# Project settings import this module for every Kedro command: the sweep's
# pipeline module (and TensorFlow with it) and MLflow (~1 s) are imported only
# when a hook runs.

logger = logging.getLogger(__name__)

_CLASSIFIER = "reference_classifier"
_CLASSIFIER_MODEL = "reference_classifier_model"


class SweepBetasHooks:
    """Refuses a run whose ``sweep.betas`` are not those the sweep was built for."""

    # tryfirst: before kedro-mlflow opens a run, so a refused run leaves none.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        from pydantic import ValidationError

        from image_vae.parameters import SweepParams
        from image_vae.pipelines.sweep.configured import check_sweep_betas
        from image_vae.pipelines.sweep.pipeline import pipeline_betas

        built = pipeline_betas(pipeline)
        if not built or "params:sweep" not in catalog:
            return
        try:
            sweep = SweepParams.model_validate(catalog.load("params:sweep") or {})
        except ValidationError:
            return  # the parameter check names the problem
        # Only a run of the whole sweep must match: a run of some nodes of it
        # (an orchestrator's task, --nodes) asks only for the βs it has.
        if "sweep.summarise_sweep" in {node.name for node in pipeline.nodes}:
            check_sweep_betas(built, sweep.betas)
        else:
            check_sweep_betas(built, [b for b in sweep.betas if b in built])


class SweepProgressHooks:
    """One line as each of the sweep's models starts training and as it is done."""

    def __init__(self) -> None:
        self.namespaces: list[str] = []
        self.done: list[str] = []
        self._start = 0.0

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline) -> None:
        self.namespaces = sorted(
            {ns for node in pipeline.nodes if (ns := _beta_namespace(node))}
        )
        self.done, self._start = [], time.perf_counter()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        namespace = _beta_namespace(node)
        if namespace in self.namespaces and node.name.endswith(".train_vae_model"):
            logger.info(
                "sweep: training model %d/%d (%s)",
                len(self.done) + 1,
                len(self.namespaces),
                _beta_text(namespace),
            )

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        namespace = _beta_namespace(node)
        if namespace not in self.namespaces or not node.name.endswith(
            ".summarise_model"
        ):
            return
        self.done.append(namespace)
        elapsed = time.perf_counter() - self._start
        left = len(self.namespaces) - len(self.done)
        logger.info(
            "sweep: %d/%d models done (%s) in %.0fs%s",
            len(self.done),
            len(self.namespaces),
            _beta_text(namespace),
            elapsed,
            f"; about {elapsed / len(self.done) * left:.0f}s left" if left else "",
        )


def _beta_text(namespace: str) -> str:
    from image_vae.pipelines.sweep.pipeline import namespace_beta

    return f"β = {namespace_beta(namespace):g}"


class _SweepRuns:
    """The nested MLflow run of each β namespace in this pipeline run."""

    def __init__(self) -> None:
        self.by_namespace: dict[str, str] = {}

    def active_child(self) -> bool:
        import mlflow

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
        import mlflow

        from image_vae.pipelines.sweep.pipeline import TRAINING_PARAMS, namespace_beta

        namespace = _beta_namespace(node)
        parent = mlflow.active_run()
        if namespace is None or parent is None:
            return
        child = self.runs.by_namespace.get(namespace) or _find_beta_run(
            parent, namespace
        )
        if child is not None:
            mlflow.start_run(run_id=child, nested=True)
        else:
            # The β's first node (set_beta) precedes all its others, so one
            # process creates the run and the others find it.
            beta = namespace_beta(namespace)
            sweep_id = parent.info.run_id
            _tag_sweep(sweep_id)
            child = mlflow.start_run(
                experiment_id=parent.info.experiment_id,
                run_name=f"beta={beta:g}",
                nested=True,
                tags={
                    "sweep_id": sweep_id,
                    "sweep_beta": f"{beta:g}",
                    "sweep_namespace": namespace,
                },
            ).info.run_id
            logger.info("MLflow run %s for β = %g of the sweep", child, beta)
        self.runs.by_namespace[namespace] = child
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
        self._end_others("FINISHED")

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self) -> None:
        self._end("FAILED")
        self._end_others("FAILED")

    def _end(self, status: str) -> None:
        import mlflow

        if self.runs.active_child():
            mlflow.end_run(status)

    @staticmethod
    def _end_others(status: str) -> None:
        """Ends the sweep's β runs still open: those of nodes that ran in other
        processes (an orchestrator's tasks), which exit without ending them."""
        import mlflow

        parent = mlflow.active_run()
        if parent is None:
            return
        for run in mlflow.search_runs(
            experiment_ids=[parent.info.experiment_id],
            filter_string=(
                f"tags.sweep_id = '{parent.info.run_id}' "
                "and attributes.status = 'RUNNING'"
            ),
            output_format="list",
        ):
            if run.info.run_id != parent.info.run_id:
                mlflow.MlflowClient().set_terminated(run.info.run_id, status)


def sweep_run_hooks() -> tuple[object, object]:
    """The two hooks (sharing their runs) that give each β its nested run."""
    runs = _SweepRuns()
    return _CloseSweepRun(runs), _OpenSweepRun(runs)


def _tag_sweep(sweep_id: str) -> None:
    """Tags the sweep's run with its own id as ``sweep_id`` (each β's first node does).

    Under an orchestrator the βs' first nodes run at once, in separate processes,
    and both write this tag: MLflow's SQL store reads, finds no tag and inserts,
    so the second insert can fail on the tag's unique key (seen with Dagster's
    two workers and SQLite). The value is the same either way: a failed write
    is fine when the tag now holds it.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        client.set_tag(sweep_id, "sweep_id", sweep_id)
    except MlflowException:
        if client.get_run(sweep_id).data.tags.get("sweep_id") != sweep_id:
            raise


def _find_beta_run(parent: mlflow.ActiveRun, namespace: str) -> str | None:
    """The run an earlier node (maybe in another process) opened for ``namespace``."""
    import mlflow

    found = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=(
            f"tags.sweep_id = '{parent.info.run_id}' "
            f"and tags.sweep_namespace = '{namespace}'"
        ),
        output_format="list",
        max_results=1,
    )
    return found[0].info.run_id if found else None


def _beta_namespace(node: Node) -> str | None:
    """``"sweep.beta_0_5"`` for a node of that β's model, else ``None``."""
    from image_vae.pipelines.sweep.pipeline import SWEEP_NAMESPACE

    parts = (node.namespace or "").split(".")
    if len(parts) < 2 or parts[0] != SWEEP_NAMESPACE:
        return None
    return ".".join(parts[:2])
