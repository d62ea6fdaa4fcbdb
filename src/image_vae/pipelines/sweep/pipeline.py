"""``sweep``: one β-VAE per ``sweep.betas``, measured alike, and their trade-off.

Each β is a namespaced copy (``sweep.beta_0_5``, …) of the training node and of
the ``evaluation`` and ``sample_quality`` pipelines, sharing the model-input data,
the reference classifier and every other parameter. The registry builds it from
the configured ``sweep.betas`` (see :mod:`.configured`); ``image_vae.sweep_hooks``
gives each β its nested MLflow run.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, partial, update_wrapper

from kedro.pipeline import Pipeline, node

from image_vae.pipelines import evaluation, sample_quality
from image_vae.pipelines.sweep.configured import configured_betas
from image_vae.pipelines.sweep.nodes import (
    summarise_sweep,
    summary_row,
    training_params_for,
)
from image_vae.pipelines.training.nodes import train_model
from image_vae.vae.rate_distortion import plot_rate_distortion, summary_markdown

SWEEP_NAMESPACE = "sweep"
# The per-β training parameters, a dataset inside each β's namespace.
TRAINING_PARAMS = "training_params"
_SHARED_INPUTS = {
    "class_names",
    "train_images",
    "train_labels",
    "test_images",
    "test_labels",
    "reference_classifier_model",
}


def beta_namespace(beta: float) -> str:
    """``"beta_0_25"`` for 0.25, ``"beta_2"`` for 2: a name unique to each float."""
    token = repr(float(beta)).removesuffix(".0")
    return "beta_" + token.replace(".", "_").replace("-", "m").replace("+", "")


def namespace_beta(namespace: str) -> float:
    """The β of a :func:`beta_namespace` name (the last part of ``namespace``)."""
    token = namespace.rsplit(".", 1)[-1].removeprefix("beta_")
    return float(token.replace("_", ".").replace("m", "-"))


def pipeline_betas(pipeline: Pipeline) -> set[float]:
    """The βs of the per-β namespaces among ``pipeline``'s nodes."""
    prefix = f"{SWEEP_NAMESPACE}.beta_"
    return {
        namespace_beta(".".join(node.namespace.split(".")[:2]))
        for node in pipeline.nodes
        if (node.namespace or "").startswith(prefix)
    }


def create_pipeline(betas: Sequence[float] | None = None, **kwargs) -> Pipeline:
    """One namespaced model per β, then the summary table and figure.

    Args:
        betas: The β values; ``None`` (the registry) reads ``sweep.betas`` from
            the configuration of ``KEDRO_ENV``.
    """
    if betas is None:
        betas = configured_betas()
    return _built(tuple(float(beta) for beta in betas))


@cache
def _built(betas: tuple[float, ...]) -> Pipeline:
    """The sweep for ``betas``, built once per process: kedro-dagster builds the
    registry's pipelines once per node it translates (a Pipeline is immutable)."""
    names = [f"{SWEEP_NAMESPACE}.{beta_namespace(beta)}" for beta in betas]
    models = sum(
        (_one_model(beta, name) for beta, name in zip(betas, names, strict=True)),
        start=Pipeline([]),
    )
    return models + Pipeline(
        [
            node(
                summarise_sweep,
                inputs=[f"{name}.summary_row" for name in names],
                outputs="sweep_summary",
                name="summarise_sweep",
                namespace=SWEEP_NAMESPACE,
            ),
            node(
                plot_rate_distortion,
                inputs="sweep_summary",
                outputs="rate_distortion_plot",
                name="plot_rate_distortion",
                namespace=SWEEP_NAMESPACE,
            ),
            node(
                summary_markdown,
                inputs="sweep_summary",
                outputs="sweep_summary_table",
                name="write_sweep_summary_table",
                namespace=SWEEP_NAMESPACE,
            ),
        ]
    )


def _one_model(beta: float, namespace: str) -> Pipeline:
    with_beta = update_wrapper(
        partial(training_params_for, beta=float(beta)), training_params_for
    )
    template = (
        Pipeline(
            [
                node(
                    with_beta,
                    inputs=["params:training", "params:sweep"],
                    outputs=TRAINING_PARAMS,
                    name="set_beta",
                ),
                node(
                    train_model,
                    inputs=["train_images", "test_images", TRAINING_PARAMS],
                    outputs=["vae_model", "training_history"],
                    name="train_vae_model",
                ),
            ]
        )
        + evaluation.create_pipeline()
        + sample_quality.create_pipeline()
        + Pipeline(
            [
                node(
                    summary_row,
                    inputs=[TRAINING_PARAMS, "test_metrics", "sample_quality_metrics"],
                    outputs="summary_row",
                    name="summarise_model",
                )
            ]
        )
    )
    shared_params = {name for name in template.inputs() if name.startswith("params:")}
    return Pipeline(
        template,
        namespace=namespace,
        inputs=_SHARED_INPUTS,
        parameters=shared_params,
    )
