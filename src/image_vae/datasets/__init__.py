"""Custom Kedro datasets: only what kedro-datasets lacks."""

from image_vae.datasets.idx_dataset import IDXDataset
from image_vae.datasets.idx_format import RawDataError
from image_vae.datasets.image_source import ImageSourceDataset
from image_vae.datasets.numpy_dataset import NumpyDataset
from image_vae.datasets.optional_dataset import OptionalDataset

__all__ = [
    "IDXDataset",
    "ImageSourceDataset",
    "NumpyDataset",
    "OptionalDataset",
    "RawDataError",
]
