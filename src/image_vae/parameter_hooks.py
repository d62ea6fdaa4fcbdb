"""Checks before any node runs: parameters, and the inputs a pipeline reuses."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from image_vae.errors import UserFacingError

logger = logging.getLogger(__name__)

_RAW_IMAGES = {"train": "train_images", "test": "test_images"}
_SOURCES = "raw_images"


def raw_image_shapes(catalog: DataCatalog) -> dict[str, tuple[int, ...]]:
    """Shapes announced by Fashion-MNIST's IDX headers that are present, by split."""
    from image_vae.datasets import IDXDataset, ImageSourceDataset

    shapes = {}
    sources = catalog.get(_SOURCES) if _SOURCES in catalog else None
    if not isinstance(sources, ImageSourceDataset):
        return shapes
    files = sources.fashion_mnist_files()
    for split, name in _RAW_IMAGES.items():
        dataset = files.get(name)
        if isinstance(dataset, IDXDataset):
            shape = dataset.header_shape()
            if shape is not None and len(shape) == 3:
                shapes[split] = shape
    return shapes


class MissingInputError(UserFacingError):
    """A pipeline needs an output that an earlier ``kedro run`` has not produced."""


def check_inputs_exist(pipeline: Pipeline, catalog: DataCatalog) -> None:
    """Raises ``MissingInputError`` for free inputs that do not exist yet.

    Raw images are exempt (IDX files fetch themselves when first loaded; a
    source is checked when opened), and so are optional ones (they load ``None``
    when missing).
    """
    from image_vae.datasets import IDXDataset, ImageSourceDataset, OptionalDataset

    missing = []
    for name in sorted(pipeline.inputs()):
        if name == "parameters" or name.startswith("params:"):
            continue
        dataset = catalog.get(name) if name in catalog else None
        if dataset is None or isinstance(
            dataset, IDXDataset | ImageSourceDataset | OptionalDataset
        ):
            continue
        if not dataset.exists():
            missing.append(name)
    if missing:
        raise MissingInputError(
            f"{', '.join(missing)} not found: this pipeline reuses what `kedro run` "
            "saves and never trains; run `kedro run` first (with the same --env)"
        )


class ParameterValidationHooks:
    """Validates parameters and inputs before the pipeline (and MLflow run) starts."""

    # tryfirst: runs before kedro-mlflow opens a run, so a typo leaves no run behind.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        from image_vae.datasets import ImageSourceDataset
        from image_vae.parameters import validate_parameters

        sections = {
            name.removeprefix("params:").split(".")[0]
            for name in pipeline.inputs()
            if name.startswith("params:")
        }
        parameters = catalog.load("parameters")
        sources = catalog.get(_SOURCES) if _SOURCES in catalog else None
        validate_parameters(
            parameters,
            raw_image_shapes(catalog),
            sections,
            class_names=sources.load().known_class_names(
                parameters.get("data_processing") or {}
            )
            if isinstance(sources, ImageSourceDataset)
            else None,
        )
        check_inputs_exist(pipeline, catalog)
