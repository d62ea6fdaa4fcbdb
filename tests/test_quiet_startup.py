"""The quiet start-up hides scikit-learn from Keras alone, and for its import only;
kedro-dagster's translation keeps its warnings but one."""

import importlib
import importlib.util
import logging
import sys

import pytest

from image_vae._quiet import _hidden, quiet_kedro_dagster


def test_a_hidden_module_cannot_be_imported_inside_the_block_only(
    tmp_path, monkeypatch
):
    (tmp_path / "hidden_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hidden_probe", raising=False)

    with _hidden("hidden_probe"), pytest.raises(ImportError):
        importlib.import_module("hidden_probe")

    assert importlib.import_module("hidden_probe").VALUE == 1


def test_an_imported_module_is_left_alone():
    with _hidden("json"):
        import json

    assert sys.modules["json"] is json


def test_keras_came_in_without_scikit_learn_and_scikit_learn_still_imports():
    # conftest.py starts each test process as a Kedro run starts: quiet_startup().
    from keras.src.wrappers import sklearn_wrapper

    assert sklearn_wrapper.sklearn is None

    # Importable again (importing it costs ~1.5 s; the probe above imports).
    assert sys.modules.get("sklearn", "not imported") is not None
    assert importlib.util.find_spec("sklearn") is not None


def test_kedro_dagster_keeps_every_warning_but_the_parameter_renaming(
    monkeypatch, caplog
):
    translator_log = logging.getLogger("kedro_dagster.utils")
    monkeypatch.setattr(translator_log, "filters", [])  # this test's filters only
    quiet_kedro_dagster()
    with caplog.at_level(logging.WARNING):
        translator_log.warning(
            "Dataset name `params:training` is not valid under Dagster's naming "
            "convention."
        )
        translator_log.warning("Dataset name `model.input` is not valid")
        translator_log.warning("Node `x` could not be matched to a pipeline.")
    assert [r.getMessage() for r in caplog.records] == [
        "Dataset name `model.input` is not valid",
        "Node `x` could not be matched to a pipeline.",
    ]
