"""The ``reference_classifier`` pipeline."""

from image_vae.pipelines.reference_classifier.pipeline import create_pipeline

__all__ = ["create_pipeline"]
