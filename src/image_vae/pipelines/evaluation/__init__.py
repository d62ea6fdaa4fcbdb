"""The ``evaluation`` pipeline."""

from image_vae.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
