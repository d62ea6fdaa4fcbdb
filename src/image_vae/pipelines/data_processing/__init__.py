"""The ``data_processing`` pipeline."""

from image_vae.pipelines.data_processing.pipeline import create_pipeline

__all__ = ["create_pipeline"]
