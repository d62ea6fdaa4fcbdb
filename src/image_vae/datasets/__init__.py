"""Custom Kedro datasets: only what kedro-datasets lacks."""

from image_vae.datasets.idx import RawDataError
from image_vae.datasets.idx_dataset import IDXDataset
from image_vae.datasets.numpy_dataset import NumpyDataset

__all__ = ["IDXDataset", "NumpyDataset", "RawDataError"]
