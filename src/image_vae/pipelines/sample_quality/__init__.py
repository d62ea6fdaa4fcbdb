"""The ``sample_quality`` pipeline."""

from image_vae.pipelines.sample_quality.pipeline import create_pipeline

__all__ = ["create_pipeline"]
