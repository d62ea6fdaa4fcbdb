"""Project pipelines: the same set whatever files exist."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from image_vae._quiet import quiet_startup

# Pipelines that make up `kedro run`. `morph` reuses the saved model and runs alone;
# `reference_classifier` trains its model only when none is saved (its own node).
DEFAULT_PIPELINES = (
    "data_processing",
    "training",
    "evaluation",
    "reference_classifier",
    "sample_quality",
)


def register_pipelines() -> dict[str, Pipeline]:
    """Registers every pipeline found, plus ``__default__``.

    Kedro 1.7 loads pipelines lazily: with ``--pipeline=X`` only ``X`` is found, so
    ``__default__`` is built from whichever default pipelines are present.
    """
    quiet_startup()  # the nodes import TensorFlow: hide its C++ start-up lines
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines),
        start=Pipeline([]),
    )
    return pipelines
