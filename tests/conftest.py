"""Shared fixtures: throw-away copies of the project for real Kedro sessions."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = PROJECT_ROOT / "data" / "01_raw" / "fashion-mnist"


# Under pytest-xdist (`make test`: --dist=loadfile --no-loadscope-reorder), each
# file runs on one worker, files handed out in collection order. The longest
# start first, so that no worker is left finishing one alone; the first two
# alternate between needing the shared smoke runs (``smoke_runs``, made by the
# first worker that asks) and not, so that the other worker is busy meanwhile.
LONGEST_FIRST = (
    "tests/test_tracking_server.py",
    "tests/test_own_images.py",
    "tests/test_deploy.py",
    "tests/pipelines/test_wiring.py",
    "tests/test_faults.py",
    "tests/vae/test_training.py",
    "tests/vae/test_training_resume.py",
    "tests/vae/test_weight_averaging.py",
    "tests/test_browser.py",
    "tests/pipelines/sweep/test_sweep_run.py",
    "tests/test_run.py",
    "tests/vae/test_distribution.py",
    "tests/test_notebook.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Imports TensorFlow as a Kedro run does (quietly, without scikit-learn).

    In each process that runs tests: xdist workers, or pytest alone, not the
    controller that only hands files out. Collection imports it anyway.
    """
    if hasattr(config, "workerinput") or not getattr(
        config.option, "numprocesses", None
    ):
        from image_vae._quiet import quiet_startup

        quiet_startup()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(
        key=lambda item: rank.get(
            item.path.relative_to(PROJECT_ROOT).as_posix(), len(rank)
        )
    )


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


def _make_empty_store(folder: Path) -> dict:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # Creating the tables runs MLflow's schema migrations: ~2.2 s a store on a
    # 2-core CPU, once per session here instead of once per test.
    SqlAlchemyStore(f"sqlite:///{folder / 'mlflow.db'}", str(folder / "mlruns"))
    return {}


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables and no runs (``made_once``)."""
    folder, _ = made_once(tmp_path_factory, "empty_store", _make_empty_store)
    return folder / "mlflow.db"


@pytest.fixture
def tracking_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Path
) -> Iterator[str]:
    """In-process MLflow on a store of the test's own (a copy of ``empty_store``):
    its URI, set as the variable and in MLflow (a URI an earlier in-process test
    set outranks the variable), unset after. An active experiment left by another
    test may not exist in it: start runs in a named one (the Default is "0")."""
    import mlflow

    shutil.copy(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture
def project_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Path
) -> Path:
    """A project copy, the working directory, with its own SQLite MLflow store.

    The store starts as a copy of ``empty_store``; the shared smoke runs'
    project (``copy_project`` alone) has the real CLI create its own.
    """
    copy = copy_project(tmp_path / "project")
    shutil.copy(empty_store, copy / "mlflow.db")
    monkeypatch.chdir(copy)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{copy / 'mlflow.db'}")
    return copy


# Epochs of the shared smoke runs: more than one, so metric histories and loss
# charts have several points.
SMOKE_EPOCHS = 3
# Smaller networks and IWAE estimate than conf/smoke's, for shorter runs; the
# figures and the latent explorer keep the smoke environment's sizes (the
# browser tests look at them).
SMOKE_RUN_PARAMETERS = {
    "training": {"filters": [8, 16, 32]},
    "evaluation": {"iwae_samples": 4, "iwae_images": 50},
}


@dataclass(frozen=True)
class SmokeRuns:
    """The shared smoke project and what its three ``kedro`` commands left."""

    project: Path
    # "beta_1", "morph", "beta_4": the real CLI's stdout + stderr for the first;
    # for the in-process two, the messages they logged, each after its level.
    logs: dict[str, str]
    versions: dict[str, list[str]]  # vae_model versions after each command


def made_once(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    make: Callable[[Path], dict],
) -> tuple[Path, dict]:
    """``make(folder)`` once per test session, its folder and JSON record shared.

    Under pytest-xdist (``make test`` runs two workers) every worker has its own
    session fixtures; the first worker that needs this one makes it in the
    session's shared temporary folder, under a file lock, and the others wait
    for it and read its record (pytest-xdist's documented pattern). ``make``
    returns what the record keeps.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        return folder, make(folder)
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the workers' common parent
    folder, record = shared / name, shared / f"{name}.json"
    with FileLock(shared / f"{name}.lock"):
        if not record.exists():
            if folder.exists():
                pytest.fail(
                    f"{name}: another worker failed to make it (its error is above)"
                )
            folder.mkdir()
            record.write_text(json.dumps(make(folder)))
    return folder, json.loads(record.read_text())


def _make_smoke_runs(folder: Path) -> dict:
    import mlflow

    from tests_support import (
        cli_in_process,
        kedro,
        model_versions,
        set_parameters,
        tracking_uri,
    )

    project = copy_project(folder / "project")
    set_parameters(project, SMOKE_RUN_PARAMETERS)
    epochs = f"training.epochs={SMOKE_EPOCHS}"
    result = kedro(project, "run", "--env", "smoke", "--params", epochs)
    logs = {"beta_1": result.stdout + result.stderr}
    versions = {"beta_1": model_versions(project)}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri(project))
        for name, *args in (
            ("morph", "--pipeline=morph"),
            ("beta_4", "--params", f"{epochs},training.beta=4"),
        ):
            done = cli_in_process(project, "run", "--env", "smoke", *args)
            assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
            logs[name], versions[name] = done.stdout, model_versions(project)
    mlflow.set_tracking_uri(None)  # as before the session's in-process runs
    return {"logs": logs, "versions": versions}


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory: pytest.TempPathFactory) -> SmokeRuns:
    """One smoke project for every test that only reads a finished run's outputs.

    Made once per session (``made_once``: once for all pytest-xdist workers), in
    its own copy with its own MLflow store and ``SMOKE_RUN_PARAMETERS`` in its
    conf/smoke: ``kedro run --env smoke`` at β = 1 by the real ``kedro`` CLI,
    then the morph pipeline on its model and a second default run at β = 4, each
    by the project's CLI in the making process (``cli_in_process``: a real Kedro
    session without a second start-up; runs in that order in the store). Tests
    must not write to it; one that needs to change it copies what it needs
    (``tests_support.copy_data``).
    """
    folder, record = made_once(tmp_path_factory, "smoke_runs", _make_smoke_runs)
    return SmokeRuns(folder / "project", record["logs"], record["versions"])


@pytest.fixture(scope="session")
def smoke_project(smoke_runs: SmokeRuns) -> Path:
    """The shared smoke project (see ``smoke_runs``); read it, never write to it."""
    return smoke_runs.project


@pytest.fixture(scope="session")
def viz_build(smoke_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kedro viz build`` of the shared smoke project: its ``build`` folder.

    Built once for all pytest-xdist workers (``made_once``), into the smoke
    project, which its readers otherwise leave unchanged.
    """
    from tests_support import kedro

    def build(_: Path) -> dict:
        kedro(smoke_project, "viz", "build")
        return {}

    made_once(tmp_path_factory, "viz_build", build)
    return smoke_project / "build"
