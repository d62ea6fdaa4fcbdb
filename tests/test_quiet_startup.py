"""The quiet start-up hides scikit-learn from Keras alone, and for its import only."""

import importlib
import importlib.util
import sys

import pytest

from image_vae._quiet import _hidden


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
