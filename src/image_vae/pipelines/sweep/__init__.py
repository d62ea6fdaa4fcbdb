"""The ``sweep`` pipeline."""

from image_vae.pipelines.sweep.pipeline import create_pipeline

__all__ = ["create_pipeline"]
