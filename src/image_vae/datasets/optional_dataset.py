"""A read-only view of another dataset that loads ``None`` while it does not exist."""

from __future__ import annotations

from typing import Any

from kedro.io.core import AbstractDataset, DatasetError


class OptionalDataset(AbstractDataset[None, Any]):
    """Loads the wrapped dataset, or ``None`` when it has nothing saved yet.

    It lets a node say in the pipeline itself that it reuses an earlier
    output when there is one (the saved reference classifier, the training
    set's latent codes) and computes it otherwise. kedro-datasets has no
    optional dataset, hence this small wrapper, configured like kedro-mlflow's
    ``MlflowArtifactDataset``::

        saved_reference_classifier_model:
          type: image_vae.datasets.OptionalDataset
          dataset:
            type: tensorflow.TensorFlowModelDataset
            filepath: data/06_models/reference_classifier.keras
            versioned: true

    Args:
        dataset: The wrapped dataset's configuration (a ``type`` string alone
            is not enough: it needs a ``filepath``).
        metadata: Ignored by Kedro; read by kedro-viz (``layer``).
    """

    def __init__(
        self, *, dataset: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> None:
        self._dataset = AbstractDataset.from_config("optional", dict(dataset))
        self.metadata = metadata

    def load(self) -> Any:
        return self._dataset.load() if self._dataset.exists() else None

    def save(self, data: Any) -> None:
        raise DatasetError(
            f"OptionalDataset is read-only ({self._dataset}); save through the "
            "catalog entry of the dataset it wraps"
        )

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        # Plain strings: kedro-dagster turns descriptions into Dagster config,
        # which refuses nested path objects (the wrapped dataset's filepath).
        inner = self._dataset._describe()
        return {"dataset": {key: str(value) for key, value in inner.items()}}
