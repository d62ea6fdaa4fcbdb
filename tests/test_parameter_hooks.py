"""The checks that run before any node: missing inputs named, optional ones exempt."""

import numpy as np
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from image_vae.datasets import NumpyDataset, OptionalDataset
from image_vae.parameter_hooks import MissingInputError, check_inputs_exist


def _pipeline():
    return Pipeline(
        [node(lambda *a: 0, ["present", "missing", "optional", "params:x"], "out")]
    )


def test_names_each_missing_input_and_exempts_optional_ones(tmp_path):
    missing = NumpyDataset(filepath=str(tmp_path / "missing.npy"))
    catalog = DataCatalog(
        {
            "present": MemoryDataset(1),
            "missing": missing,
            "optional": OptionalDataset(
                dataset={
                    "type": "pandas.ParquetDataset",
                    "filepath": str(tmp_path / "x.pq"),
                }
            ),
        }
    )

    with pytest.raises(MissingInputError, match=r"^missing not found: .*kedro run"):
        check_inputs_exist(_pipeline(), catalog)

    missing.save(np.zeros(1))
    assert check_inputs_exist(_pipeline(), catalog) is None  # nothing missing now
