"""A read-only view of a saved Keras model that loads ``None`` while none is saved."""

from __future__ import annotations

from kedro.io.core import DatasetError
from kedro_datasets.tensorflow import TensorFlowModelDataset


class OptionalModelDataset(TensorFlowModelDataset):
    """A :class:`TensorFlowModelDataset` that loads ``None`` while nothing is saved.

    It lets a node say in the pipeline itself that it trains a model only when
    none exists yet: the node reads this view of the model's file and writes
    the model through the ordinary dataset. kedro-datasets has no optional
    dataset, hence this subclass.
    """

    def load(self):
        if not self.exists():
            return None
        return super().load()

    def save(self, data) -> None:
        raise DatasetError(
            f"{self._filepath} is read through OptionalModelDataset, which is "
            "read-only; save the model through its TensorFlowModelDataset"
        )
