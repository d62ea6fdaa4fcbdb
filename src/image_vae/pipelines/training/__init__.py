"""The ``training`` pipeline."""

from image_vae.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
