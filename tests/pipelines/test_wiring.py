"""Every pipeline wired end to end in-process, as Kedro's starters test them.

A ``DataCatalog`` of memory datasets (a source of raw arrays shaped like
Fashion-MNIST's IDX files, the smoke parameters, a tiny model; the model input as
real ``.npy`` files) and the ``SequentialRunner``: each node's inputs and
outputs must connect, and each pipeline must hand on what the next one reads.
The subprocess ``kedro run`` tests cover the real catalog.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.project import configure_project, pipelines
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from conftest import PROJECT_ROOT
from image_vae.datasets import NumpyDataset
from image_vae.datasets.image_source import RawImages, RawSplit
from image_vae.pipelines.sweep.pipeline import create_pipeline as create_sweep

pytestmark = pytest.mark.filterwarnings("ignore")

N_TRAIN, N_TEST = 120, 60
OVERRIDES = {
    "data_processing": {"subset": {"train": N_TRAIN, "test": N_TEST}},
    "training": {"filters": [4, 8, 8], "epochs": 1, "batch_size": 30},
    "evaluation": {
        "iwae_samples": 2,
        "iwae_images": 10,
        "manifold_size": 3,
        "explorer": {"grid_size": 6, "walk_steps": 3},
    },
    "reference_classifier": {"filters": [4], "dense_units": 8, "epochs": 1},
    "sample_quality": {"n_samples": 20, "morph_starts": 4},
    "sweep": {"betas": [0.5, 2.0], "epochs": 1},
}
MODELS = ("vae_model", "reference_classifier_model")


def _parameters(tmp_path) -> dict:
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="smoke",
        merge_strategy={"parameters": "soft"},
    )
    params = copy.deepcopy(loader["parameters"])
    for section, values in OVERRIDES.items():
        for key, value in values.items():
            params[section][key] = value
    params["training"]["checkpoint_dir"] = str(tmp_path / "checkpoints")
    return params


def _lookup(params: dict, dotted: str):
    for key in dotted.split("."):
        params = params[key]
    return params


class ArraySources:
    """``raw_images`` as the catalog loads it, opening in-memory IDX-like arrays."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.splits = [
            RawSplit(
                labels=np.arange(n) % 10,
                arrays=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            )
            for n in (N_TRAIN, N_TEST)
        ]

    def open(self, params: dict) -> RawImages:
        names = [f"class {i}" for i in range(10)]
        return RawImages(*self.splits, class_names=names, description="arrays")


def _catalog(pipeline, tmp_path) -> DataCatalog:
    rng = np.random.default_rng(0)
    params = _parameters(tmp_path)
    datasets = {
        "raw_images": ArraySources(rng),
    }
    catalog = DataCatalog(
        {name: MemoryDataset(data) for name, data in datasets.items()}
        | {name: MemoryDataset(copy_mode="assign") for name in MODELS}
    )
    # Optional inputs (what an earlier run saved) are absent, as in a first run.
    for name in pipeline.inputs():
        if name.startswith("saved_"):
            catalog[name] = MemoryDataset(None, copy_mode="assign")
    for split in ("train", "test"):  # written a chunk at a time, read memory-mapped
        catalog[f"{split}_images"] = NumpyDataset(
            filepath=str(tmp_path / f"{split}_images.npy"), mmap=True
        )
    for name in pipeline.inputs():
        if name.startswith("params:"):
            catalog[name] = MemoryDataset(_lookup(params, name.removeprefix("params:")))
    return catalog


@pytest.fixture(scope="module")
def registry():
    configure_project("image_vae")
    return dict(pipelines)


def _run(registry, names, tmp_path) -> dict:
    """Runs the pipelines together; returns their free outputs by name."""
    pipeline = sum((registry[name] for name in names[1:]), start=registry[names[0]])
    catalog = _catalog(pipeline, tmp_path)
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.outputs()}


def test_default_pipeline_then_morph_connect_and_produce_every_output(
    registry, tmp_path
):
    outputs = _run(
        registry,
        [
            "data_processing",
            "training",
            "evaluation",
            "reference_classifier",
            "sample_quality",
            "morph",
        ],
        tmp_path,
    )

    figures = {name for name, value in outputs.items() if isinstance(value, Figure)}
    assert figures == {
        "training_history_plot",
        "reconstructions_plot",
        "latent_scatter_plot",
        "prior_samples_plot",
        "latent_manifold_plot",
        "latent_path_plot",
        "morph_plot",
    }
    assert np.isfinite(outputs["test_metrics_mlflow"]["negative_elbo"][0]["value"])
    quality = outputs["sample_quality_metrics_mlflow"]
    assert np.isfinite(quality["fid"][0]["value"])
    model = outputs["vae_mlflow_model"]
    assert model.image_shape == (32, 32, 1)


@pytest.mark.slow
def test_sweep_trains_one_model_per_beta_and_summarises_them(registry, tmp_path):
    registry = {**registry, "sweep": create_sweep([0.5, 2.0])}
    outputs = _run(
        registry, ["data_processing", "reference_classifier", "sweep"], tmp_path
    )

    summary = outputs["sweep_summary_table"]
    assert "| 0.5 |" in summary and "| 2 |" in summary
    assert isinstance(outputs["rate_distortion_plot"], Figure)
