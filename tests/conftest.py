"""Shared fixtures: throw-away copies of the project for real Kedro sessions."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = PROJECT_ROOT / "data" / "01_raw" / "fashion-mnist"


def copy_project(root: Path) -> Path:
    """Copies the project's config to ``root`` with its own data/ and no conf/local.

    The raw Fashion-MNIST folder is shared (symlinked) so it is fetched once; every
    other output lands in the copy, never in the developer's data/ or mlflow.db.
    """
    root.mkdir(parents=True)
    for item in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / item, root / item)
    shutil.copytree(
        PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local")
    )
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # Kedro wants one; the package itself is installed
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    (root / "data" / "01_raw").mkdir(parents=True)
    (root / "data" / "01_raw" / "fashion-mnist").symlink_to(RAW_DIR)
    return root


@pytest.fixture(scope="session")
def project_factory() -> Callable[[Path], Path]:
    """``copy_project``, for fixtures of wider scope than ``project_copy``."""
    return copy_project


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project copy, the working directory, with its own SQLite MLflow store."""
    copy = copy_project(tmp_path / "project")
    monkeypatch.chdir(copy)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{copy / 'mlflow.db'}")
    return copy


@pytest.fixture(scope="session")
def smoke_sweep_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy whose smoke model inputs and reference classifier exist.

    Made once per test session by the real ``kedro`` CLI; the sweep tests copy
    its ``data/`` instead of each running these two pipelines again.
    """
    from tests_support import kedro

    project = copy_project(tmp_path_factory.mktemp("smoke_inputs") / "project")
    kedro(
        project,
        "run",
        "--env",
        "smoke",
        "--pipelines=data_processing,reference_classifier",
    )
    return project
