"""Nodes of the ``data_processing`` pipeline: raw images → uint8 model input."""

from __future__ import annotations

from typing import Any

import numpy as np

from image_vae.datasets.image_source import ImageSources
from image_vae.pipelines.data_processing.image_plan import (
    ImagePlan,
    make_plan,
    stream_split,
)
from image_vae.pipelines.morph.nodes import target_index
from image_vae.vae.preprocessing import StreamedImages


def plan_model_input(
    sources: ImageSources,
    params: dict[str, Any],
    filters: list[int],
    target_class: Any,  # str | int | None; a union would make Kedro warn
) -> tuple[ImagePlan, list[str]]:
    """Opens the configured source, splits it and chooses the input shape.

    Args:
        sources: ``raw_images``, every configured source.
        params: The ``data_processing`` parameters (``source``, ``path``, …).
        filters: ``training.filters``: one stride-2 convolution each, so the
            sides must be divisible by ``2**len(filters)``.
        target_class: ``morph.target_class``: when set, checked against the
            class names found, before any image is written.

    Returns:
        The plan (splits, ``(H, W, C)``, resize mode) and the class names in
        label order (empty for unlabelled images).
    """
    raw = sources.open(params)
    if target_class is not None and raw.class_names:
        target_index(target_class, raw.class_names)
    return make_plan(raw, params, len(filters)), raw.class_names


def prepare_split(plan: ImagePlan, split: str) -> tuple[StreamedImages, np.ndarray]:
    """One split's ``(N, H, W, C)`` uint8 images (written chunk by chunk) and labels.

    Labels are int64 class indices, −1 for unlabelled images.
    """
    return stream_split(plan, split)
