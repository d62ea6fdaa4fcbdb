"""Shared fixtures: a throw-away copy of the project for real Kedro sessions."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = PROJECT_ROOT / "data" / "01_raw" / "fashion-mnist"


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's config with its own data/ and MLflow store.

    The raw Fashion-MNIST folder is shared (symlinked) so it is fetched once; every
    other output lands in the copy, never in the developer's data/ or mlflow.db.
    """
    copy = tmp_path / "project"
    copy.mkdir()
    for item in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / item, copy / item)
    shutil.copytree(
        PROJECT_ROOT / "conf", copy / "conf", ignore=shutil.ignore_patterns("local")
    )
    (copy / "conf" / "local").mkdir()
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    (copy / "data" / "01_raw").mkdir(parents=True)
    (copy / "data" / "01_raw" / "fashion-mnist").symlink_to(RAW_DIR)
    monkeypatch.chdir(copy)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{copy / 'mlflow.db'}")
    return copy
