"""Hostile inputs, in-process: each fault class ends in one line naming the culprit.

One parametrised test per class: parameter values, absurd sizes, configuration
files, damaged files, interruptions and broken stores, and the single mapping
(``image_vae.user_messages.one_line``) that the CLI shows. The subprocess cases
(real signals) are in tests/test_faults.py.
"""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, Version

from image_vae.config_loader import CheckedConfigLoader, ConfigFileError
from image_vae.datasets import IDXDataset, NumpyDataset
from image_vae.datasets.idx_format import encode_idx
from image_vae.datasets.keras_model_dataset import KerasModelDataset
from image_vae.input_checks import InputChecksHooks, MismatchedInputsError
from image_vae.parameters import ParameterError, validate_parameters
from image_vae.run_status import (
    HOST_TAG,
    PID_TAG,
    REASON_TAG,
    end_active_runs,
    mark_stale_runs,
)
from image_vae.training_lock import RunInProgressError, TrainingLock
from image_vae.user_messages import one_line
from tests_support import tracking_uri

SIZES = {"train": (500, 28, 28), "test": (100, 28, 28)}

# 1. Values the schema let through before: (raw parameters, the line's start).
BAD_VALUES = [
    ({"training": {"epochs": True}}, "training.epochs: got True; allowed: a whole"),
    ({"training": {"latent_dim": 2.0}}, "training.latent_dim: got 2.0; allowed: a wh"),
    ({"training": {"seed": -1}}, "training.seed: got -1; allowed: a number ≥ 0"),
    ({"morph": {"seed": 2**40}}, "morph.seed: got 1099511627776; allowed: a number <"),
    ({"training": {"beta": float("inf")}}, "training.beta: got inf; allowed: a finite"),
    ({"training": {"learning_rate": float("nan")}}, "training.learning_rate: got nan"),
    ({"training": {"beta": True}}, "training.beta: got True; allowed: a number"),
    ({"evaluation": {"knn_k": 501}}, "evaluation.knn_k: got 501; allowed: at most 500"),
    (
        {
            "data_processing": {"subset": {"test": 50}},
            "evaluation": {"knn_k": 5, "n_reconstructions": 60},
        },
        "evaluation.n_reconstructions: got 60; allowed: at most 50",
    ),
    ({"morph": {"target_class": True}}, "morph.target_class: got True; allowed: a str"),
    ({"data_processing": {"subset": {"train": True}}}, "data_processing.subset.train"),
]


@pytest.mark.parametrize(
    ("raw", "line"), BAD_VALUES, ids=[line.split(":")[0] for _, line in BAD_VALUES]
)
def test_schema_refuses_values_that_a_node_would_trip_on(raw, line):
    with pytest.raises(ParameterError) as info:
        validate_parameters(raw, SIZES)
    assert str(info.value).startswith(line), str(info.value)
    assert "\n" not in str(info.value)


def test_schema_accepts_the_shipped_configuration_and_ints_for_floats():
    for env in ("base", "smoke"):
        loader = CheckedConfigLoader("conf", base_env="base", default_run_env=env)
        full = {"train": (60000, 28, 28), "test": (10000, 28, 28)}
        validate_parameters(loader["parameters"], full)
    validate_parameters({"training": {"beta": 4, "learning_rate": 1}})


@pytest.mark.parametrize("kind", ["file", "inside a file"])
def test_a_folder_parameter_pointing_at_a_file_is_refused(tmp_path, kind):
    (tmp_path / "taken").write_text("x")
    value = tmp_path / "taken" if kind == "file" else tmp_path / "taken" / "sub"
    with pytest.raises(ParameterError) as info:
        validate_parameters({"training": {"checkpoint_dir": str(value)}})
    assert str(info.value).startswith(f"training.checkpoint_dir: got '{value}', which")
    assert "a file; allowed: a folder" in str(info.value)


# 2. Absurd sizes, refused at once with the limit and why.
ABSURD = [
    ({"training": {"latent_dim": 10**9}}, "training.latent_dim", "at most 1024"),
    ({"training": {"filters": [32, 4096]}}, "training.filters.1", "at most 1024"),
    ({"training": {"batch_size": 10**7}}, "training.batch_size", "needs ≈"),
    ({"training": {"epochs": 10**9}}, "training.epochs", "at most 10,000,000 steps"),
    ({"training": {}, "sweep": {"epochs": 10**8}}, "sweep.epochs", "10,000,000 steps"),
    ({"reference_classifier": {"epochs": 10**8}}, "reference_classifier.epochs", "≈"),
    ({"evaluation": {"manifold_size": 10**5}}, "evaluation.manifold_size", "at most"),
    (
        {
            "evaluation": {
                "latent_path": {"start": [0, 0], "end": [1, 1], "steps": 10**6}
            }
        },
        "evaluation.latent_path.steps",
        "at most 200",
    ),
    ({"evaluation": {"iwae_samples": 10**9}}, "evaluation.iwae_samples", "one pass, ≈"),
    (
        {"evaluation": {"n_prior_samples": 10**8}},
        "evaluation.n_prior_samples",
        "at most",
    ),
    ({"morph": {"steps": 10**7}, "evaluation": {}}, "morph.steps", "at most 200"),
    ({"sample_quality": {"n_samples": 10**10}}, "sample_quality.n_samples", "≈"),
    ({"sweep": {"betas": [float(b) for b in range(100)]}}, "sweep.betas", "at most 32"),
]


@pytest.mark.parametrize(
    ("raw", "name", "limit"), ABSURD, ids=[n for _, n, _ in ABSURD]
)
def test_absurd_sizes_are_refused_up_front_with_the_limit(raw, name, limit):
    start = time.perf_counter()
    with pytest.raises(ParameterError) as info:
        validate_parameters(raw, SIZES)
    assert time.perf_counter() - start < 1
    text = str(info.value)
    assert text.startswith(f"{name}: got "), text
    assert limit in text and "\n" not in text


# 3. Configuration files: (files in conf/base, the line's content).
CONFIG_FAULTS = {
    "yaml syntax": (
        {"parameters_a.yml": "a:\n  b: [1, 2\n  c: 3\n"},
        "parameters_a.yml, line 3: expected ',' or ']'",
    ),
    "tab": ({"parameters_a.yml": "a:\n\tb: 1\n"}, "parameters_a.yml, line 2: found"),
    "top level a list": (
        {"parameters_a.yml": "- 1\n- 2\n"},
        "parameters_a.yml: the top level is a list; allowed: a mapping",
    ),
    "top level a scalar": (
        {"catalog.yml": "train_images\n"},
        "catalog.yml: the top level is a str",
    ),
    "key twice in a file": (
        {"parameters_a.yml": "a:\n  b: 1\n  b: 2\n"},
        "parameters_a.yml, line 3: key 'b' given twice (first on line 2)",
    ),
    "key in two files": (
        {"parameters_a.yml": "a:\n  b: 1\n", "parameters_c.yml": "a:\n  b: 2\n"},
        "both set a.b; allowed: each key in one file",
    ),
}


@pytest.mark.parametrize("fault", list(CONFIG_FAULTS))
def test_config_file_faults_name_the_file_and_line(tmp_path, fault):
    files, expected = CONFIG_FAULTS[fault]
    (tmp_path / "base").mkdir()
    (tmp_path / "local").mkdir()
    for name, text in files.items():
        (tmp_path / "base" / name).write_text(text)
    loader = CheckedConfigLoader(
        str(tmp_path), base_env="base", default_run_env="local"
    )
    key = "catalog" if "catalog.yml" in files else "parameters"
    with pytest.raises(ConfigFileError) as info:
        loader[key]
    line = one_line(info.value)
    assert line.startswith(f"configuration: {tmp_path / 'base'}"), line
    assert expected in line and "\n" not in line


def test_merge_keys_are_not_duplicates(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "base" / "catalog.yml").write_text(
        "_m: &m {type: MemoryDataset}\nx:\n  <<: *m\n  type: MemoryDataset\n"
    )
    loader = CheckedConfigLoader(
        str(tmp_path), base_env="base", default_run_env="local"
    )
    assert loader["catalog"] == {"x": {"type": "MemoryDataset"}}


# 4. Damaged files: each loads through a catalog, as in a run.
def _raw_gz(path: Path) -> Path:
    images = np.zeros((3, 4, 4), np.uint8)
    path.write_bytes(gzip.compress(encode_idx(images)))
    return path


def _truncated_gz(path: Path) -> None:
    raw = _raw_gz(path).read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _bit_rotted_gz(path: Path) -> None:
    raw = bytearray(_raw_gz(path).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def _directory(path: Path) -> None:
    path.mkdir()


def _truncated_npy(path: Path) -> None:
    np.save(path, np.zeros((10, 4, 4, 1), np.float32))
    path.write_bytes(path.read_bytes()[:200])


def _npy(array: np.ndarray):
    return lambda path: np.save(path, array)


def _truncated_keras(path: Path) -> None:
    _tiny_model().save(path)
    path.write_bytes(path.read_bytes()[:300])


def _foreign_file(path: Path) -> None:
    path.write_text("this is not a model")


def _other_model(path: Path) -> None:
    _tiny_model().save(path)


def _tiny_model() -> keras.Model:
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])


IMAGES_EXPECTED = {"dtype": "float32", "ndim": 4, "min": 0, "max": 1}
DAMAGED = {
    "truncated gz": (
        "train_images_raw",
        "idx",
        _truncated_gz,
        "corrupt gzip stream, truncated",
    ),
    "bit-rotted gz": ("train_images_raw", "idx", _bit_rotted_gz, "corrupt gzip"),
    "gz is a directory": ("train_images_raw", "idx", _directory, "a directory where"),
    "truncated npy": ("train_images", "npy", _truncated_npy, "truncated or damaged"),
    "npy is a directory": ("train_images", "npy", _directory, "a directory where"),
    "wrong dtype": (
        "train_images",
        "npy",
        _npy(np.zeros((2, 4, 4, 1))),
        "dtype float64",
    ),
    "wrong range": (
        "train_images",
        "npy",
        _npy(np.full((2, 4, 4, 1), 255, np.float32)),
        "values in [255.0, 255.0], expected within [0, 1]",
    ),
    "wrong shape": ("train_images", "npy", _npy(np.zeros((2, 4), np.float32)), "2 dim"),
    "nan": (
        "train_images",
        "npy",
        _npy(np.full((2, 4, 4, 1), np.nan, np.float32)),
        "NaN",
    ),
    "truncated keras": ("vae_model", "keras", _truncated_keras, "not a .keras archive"),
    "foreign file": ("vae_model", "keras", _foreign_file, "not a .keras archive"),
    "keras is a directory": ("vae_model", "keras", _directory, "a directory where"),
    "another model": ("vae_model", "keras", _other_model, "holds a Sequential"),
}


def _dataset(kind: str, path: Path):
    if kind == "idx":
        return IDXDataset(filepath=str(path))
    if kind == "npy":
        return NumpyDataset(filepath=str(path), expected=IMAGES_EXPECTED)
    return KerasModelDataset(filepath=str(path), model_class="VAE")


@pytest.fixture(scope="module")
def registry():
    """Kedro's project settings, so the rebuild hints name real pipelines."""
    bootstrap_project(Path(__file__).resolve().parents[1])


@pytest.mark.parametrize("fault", list(DAMAGED))
def test_damaged_file_is_one_line_with_dataset_file_and_rebuild(
    tmp_path, registry, fault
):
    name, kind, damage, what = DAMAGED[fault]
    suffix = {"idx": ".gz", "npy": ".npy", "keras": ".keras"}[kind]
    path = tmp_path / f"file{suffix}"
    damage(path)
    catalog = DataCatalog({name: _dataset(kind, path)})
    with pytest.raises(DatasetError) as info:
        catalog.load(name)
    line = one_line(info.value, env="smoke")
    assert line is not None, info.value
    assert line.startswith(f"{name}: cannot load {path}: "), line
    assert what in line and "\n" not in line and "tmp_tensorflow" not in line
    rebuild = {
        "idx": "delete it: the next `kedro run` obtains it again",
        "npy": "`kedro run --pipeline=data_processing --env smoke`",
        "keras": "`kedro run --pipeline=training --env smoke`",
    }[kind]
    assert rebuild in line.rpartition("; ")[2], line


BAD_ENTRIES = [
    ({"expectd": {}}, "NumpyDataset.__init__() got an unexpected keyword"),
    ({"expected": {"dtyp": "uint8"}}, "expected: unknown key(s) ['dtyp']"),
    ({"type": "nope.Nope"}, "No module named 'nope'"),
]


@pytest.mark.parametrize(
    ("entry", "what"), BAD_ENTRIES, ids=["arg", "expected", "type"]
)
def test_a_bad_catalog_entry_is_one_line_naming_it(entry, what):
    config = {"type": "image_vae.datasets.NumpyDataset", "filepath": "x.npy", **entry}
    with pytest.raises(DatasetError) as info:
        DataCatalog.from_config({"train_images": config}).get("train_images")
    line = one_line(info.value)
    assert line.startswith(f"catalog entry 'train_images': {what}"), line
    assert line.endswith("; fix it in conf/<env>/catalog*.yml")


def test_image_and_label_arrays_of_different_lengths_are_refused(registry):
    hooks = InputChecksHooks()
    hooks.before_pipeline_run()
    hooks.after_dataset_loaded("train_images", np.zeros((20, 4, 4, 1)))
    hooks.after_dataset_loaded("test_labels", np.zeros(7))  # another split: fine
    with pytest.raises(MismatchedInputsError) as info:
        hooks.after_dataset_loaded("train_labels", np.zeros(19))
    assert str(info.value) == (
        "train_images has 20 rows but train_labels has 19: they come from different "
        "runs; rebuild them with `kedro run --pipeline=data_processing` (or plain "
        "`kedro run`)"
    )


# 5. Saves that fail half-way, interruptions, broken stores.
def test_a_failed_model_save_leaves_the_previous_version_newest(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    first = KerasModelDataset(filepath=str(path), version=Version(None, None))
    first.save(_tiny_model())
    real_save = keras.saving.save_model

    def disk_fills(model, target, **kwargs):
        real_save(model, target, **kwargs)
        Path(target).write_bytes(Path(target).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(keras.saving, "save_model", disk_fills)
    catalog = DataCatalog(
        {
            "vae_model": KerasModelDataset(
                filepath=str(path), version=Version(None, None)
            )
        }
    )
    with pytest.raises(DatasetError) as info:
        catalog.save("vae_model", _tiny_model())
    line = one_line(info.value)
    assert line.startswith("vae_model: cannot save"), line
    assert "no space left on the device" in line
    assert len(list(path.iterdir())) == 1, "the failed version folder is removed"
    assert not list(path.rglob(".partial-*"))
    monkeypatch.undo()
    model = KerasModelDataset(filepath=str(path), version=Version(None, None)).load()
    assert isinstance(model, keras.Sequential)


def test_a_failed_array_save_leaves_the_old_array(tmp_path, monkeypatch):
    path = tmp_path / "a.npy"
    dataset = NumpyDataset(filepath=str(path))
    dataset.save(np.arange(5))

    def half(handle, array, **kwargs):
        handle.write(b"\x93NUMPY")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", half)
    with pytest.raises(KeyboardInterrupt):
        dataset.save(np.arange(9))
    monkeypatch.undo()
    assert dataset.load().tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, empty_store):
    """One real SQLite MLflow store for the module (a copy of ``empty_store``)."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    shutil.copy(empty_store, path)
    uri = f"sqlite:///{path}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    yield mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI")
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


def test_an_interrupted_run_ends_killed_with_its_reason(store):
    # An explicit experiment: an earlier in-process session may have set another.
    run = mlflow.start_run(experiment_id=store.create_experiment("interrupted"))
    assert end_active_runs("KILLED", "interrupted by SIGTERM") == [run.info.run_id]
    ended = store.get_run(run.info.run_id)
    assert ended.info.status == "KILLED"
    assert ended.data.tags[REASON_TAG] == "interrupted by SIGTERM"


def test_runs_left_running_by_a_dead_process_are_marked_killed(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    experiment = store.create_experiment("image_vae")
    host = socket.gethostname()
    orphan = store.create_run(experiment, tags={HOST_TAG: host, PID_TAG: str(dead.pid)})
    child = store.create_run(
        experiment, tags={"mlflow.parentRunId": orphan.info.run_id}
    )
    alive = store.create_run(
        experiment, tags={HOST_TAG: host, PID_TAG: str(os.getpid())}
    )
    elsewhere = store.create_run(experiment, tags={HOST_TAG: "other", PID_TAG: "1"})
    marked = mark_stale_runs(store, experiment, host)
    assert marked == sorted([orphan.info.run_id, child.info.run_id])
    status = {
        r: store.get_run(r.info.run_id).info.status
        for r in (orphan, child, alive, elsewhere)
    }
    assert list(status.values()) == ["KILLED", "KILLED", "RUNNING", "RUNNING"]
    assert "SIGKILL" in store.get_run(orphan.info.run_id).data.tags[REASON_TAG]


def test_a_second_training_run_at_once_is_refused(tmp_path):
    first, second = TrainingLock(tmp_path), TrainingLock(tmp_path)
    first.acquire()
    with pytest.raises(RunInProgressError) as info:
        second.acquire()
    assert str(info.value) == (
        f"{tmp_path}: process {os.getpid()} is training here now; wait for it to "
        "end (or stop it), then run the command again"
    )
    first.release()
    second.acquire()  # the lock is free once its holder ends
    second.release()


# 6. One mapping: library exceptions to lines; bugs keep their traceback.
def _sqlalchemy(message: str) -> Exception:
    import sqlalchemy.exc

    return sqlalchemy.exc.OperationalError("INSERT …", {}, Exception(message))


def _chained(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as error:
            raise outer from error
    except Exception as error:
        return error


MAPPING = [
    (_sqlalchemy("file is not a database"), "MLflow store sqlite:///", "it is damaged"),
    (_sqlalchemy("attempt to write a readonly database"), "readonly", "writable"),
    (OSError(errno.ENOSPC, "No space left", "/data/x"), "no space left", "/data/x"),
    (
        PermissionError(errno.EACCES, "Permission denied", "/data/x"),
        "/data/x:",
        "writable",
    ),
    (_chained(RuntimeError("wrapped"), MemoryError()), "out of memory", "batch_size"),
    (yaml.YAMLError("bad"), "configuration: invalid YAML", "bad"),
]


@pytest.mark.parametrize(("error", "start", "also"), MAPPING, ids=lambda v: str(v)[:30])
def test_library_exceptions_map_to_one_line(tmp_path, error, start, also):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")  # named, not made
    line = one_line(error)
    assert line is not None and start in line and also in line and "\n" not in line


def test_a_bug_keeps_its_traceback():
    assert one_line(KeyError("x")) is None
    assert (
        one_line(
            _chained(
                DatasetError("train_images: Failed while saving data to dataset X"),
                TypeError("bug"),
            )
        )
        is None
    )


@pytest.fixture
def project(project_copy):
    bootstrap_project(project_copy)
    mlflow.set_tracking_uri(tracking_uri(project_copy))
    yield project_copy
    while mlflow.active_run():
        mlflow.end_run()
    # The URI set here outranks MLFLOW_TRACKING_URI for the rest of the worker's
    # tests: one of them read this test's damaged store.
    mlflow.set_tracking_uri(None)


def test_cli_prints_one_line_and_verbose_or_the_variable_keep_the_traceback(
    project, monkeypatch
):
    from image_vae.cli import cli

    faulty = project / "conf" / "smoke" / "parameters_training.yml"
    faulty.write_text("training: [1\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--env", "smoke"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: configuration: {faulty}, line 2: expected ',' or ']', but got "
        "'<stream end>'"
    )
    assert "Traceback" not in result.output
    for args, env in ((["--verbose"], {}), ([], {"IMAGE_VAE_TRACEBACK": "1"})):
        result = runner.invoke(cli, ["run", "--env", "smoke", *args], env=env)
        assert isinstance(result.exception, ConfigFileError)


def test_a_damaged_mlflow_store_is_one_line_naming_it(project):
    from image_vae.cli import cli

    (project / "mlflow.db").write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(
        cli, ["run", "--env", "smoke", "--pipeline=data_processing"]
    )
    line = result.output.strip().splitlines()[-1]
    assert result.exit_code == 1, result.output
    assert line.startswith(f"Error: MLflow store {tracking_uri(project)}: "), line
    assert "move it aside" in line
    assert not (project / "data" / "05_model_input" / "train_images.npy").exists()
