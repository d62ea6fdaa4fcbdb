"""End to end: the real `kedro run` CLI on image folders drawn with Pillow.

A labelled RGB folder of several sizes larger than `max_side` (so every image
is resized), and a flat unlabelled grey folder of non-square images (its run by
the project's CLI in this process); each run in its own project copy with its
own MLflow store, in the `smoke` environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from image_folders import flat_folder, labelled_folder
from tests_support import (
    FIGURES,
    QUICK_PARAMETERS,
    cli_in_process,
    error_line,
    kedro,
    set_parameters,
    tracking_uri,
)

pytestmark = pytest.mark.slow


def _folder_params(root: Path) -> str:
    return f"data_processing.source=folder,data_processing.path={root}"


def _has_colour(png: Path) -> bool:
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return bool((np.abs(pixels[..., 0] - pixels[..., 1]) > 40).any())


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, project_factory) -> Path:
    base = tmp_path_factory.mktemp("labelled")
    root = labelled_folder(
        base / "shapes", per_class=12, sizes=((96, 72), (80, 80), (60, 100))
    )
    project = project_factory(base / "project")
    set_parameters(project, QUICK_PARAMETERS)  # small networks and grids
    # The full run and the morph in one command: one start-up, one session.
    kedro(
        project, "run", "--env", "smoke", "--pipelines=__default__,morph",
        "--params", _folder_params(root) + ",morph.target_class=square",
    )  # fmt: skip
    return project


def test_labelled_rgb_folder_trains_evaluates_and_morphs(labelled):
    data = labelled / "data"
    images = np.load(data / "05_model_input/train_images.npy", mmap_mode="r")
    # 96×72, 80×80 and 60×100 (w×h) scaled to a longer side of 64: 48×64,
    # 64×64, 38×64 (h×w) → 64×64, three channels, uint8.
    assert images.dtype == np.uint8 and images.shape[1:] == (64, 64, 3)
    assert len(images) + len(np.load(data / "05_model_input/test_images.npy")) == 36
    names = json.loads((data / "05_model_input/class_names.json").read_text())
    assert names == ["bar", "disc", "square"]

    latent = pd.read_parquet(data / "07_model_output/latent_test.parquet")
    assert set(latent["label_name"]) == set(names)
    metrics = json.loads((data / "08_reporting/test_metrics.json").read_text())
    assert 0 <= metrics["knn_accuracy"] <= 1
    quality = json.loads(
        (data / "08_reporting/sample_quality_metrics.json").read_text()
    )
    assert {"fid", "confidence", "morph_success_rate"} <= set(quality)

    for figure in (*FIGURES, "morph"):
        assert (data / "08_reporting" / f"{figure}.png").exists(), figure
    assert _has_colour(data / "08_reporting/reconstructions.png")
    direction = json.loads((data / "07_model_output/class_direction.json").read_text())
    assert direction["target_class"] == "square" and direction["target_index"] == 2


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory, project_factory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("unlabelled")
    root = flat_folder(base / "grey", count=30, size=(28, 20), mode="L")
    project = project_factory(base / "project")
    set_parameters(project, QUICK_PARAMETERS)
    # In this process (the labelled folder's run is the real CLI's): its
    # outputs and the messages it logs are the check.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri(project))
        run = cli_in_process(
            project, "run", "--env", "smoke", "--params", _folder_params(root)
        )
    assert run.returncode == 0, run.stderr[-3000:]
    return project, root, run.stdout


def test_unlabelled_grey_folder_leaves_out_what_needs_labels(unlabelled):
    project, _, log = unlabelled
    data = project / "data"
    images = np.load(data / "05_model_input/train_images.npy", mmap_mode="r")
    assert images.shape[1:] == (24, 32, 1)  # 20×28 (h×w) rounded up to 8s
    assert json.loads((data / "05_model_input/class_names.json").read_text()) == []
    metrics = json.loads((data / "08_reporting/test_metrics.json").read_text())
    assert "knn_accuracy" not in metrics and "negative_elbo" in metrics
    quality = (data / "08_reporting/sample_quality_metrics.json").read_text()
    assert json.loads(quality) == {}
    for figure in FIGURES:
        assert (data / "08_reporting" / f"{figure}.png").exists(), figure
    for reason in ("knn_accuracy: left out", "sample quality: left out"):
        assert log.count(reason) == 1, reason


def test_morph_on_unlabelled_images_stops_with_one_line(unlabelled, monkeypatch):
    project, root, _ = unlabelled
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(project))
    result = cli_in_process(
        project, "run", "--env", "smoke", "--pipeline=morph",
        "--params", _folder_params(root),
    )  # fmt: skip
    assert error_line(result).startswith("Error: morph needs class labels")
