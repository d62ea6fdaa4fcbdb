"""The ``morph`` pipeline."""

from image_vae.pipelines.morph.pipeline import create_pipeline

__all__ = ["create_pipeline"]
