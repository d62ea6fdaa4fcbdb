"""``sample_quality``: judges decoded images with the saved reference classifier."""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.evaluation.nodes import to_metric_history
from image_vae.pipelines.sample_quality.nodes import (
    compute_morph_success,
    compute_sample_quality,
    merge_metrics,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Prior samples (FID, confidence) and morph end points (success rate)."""
    return Pipeline(
        [
            node(
                compute_sample_quality,
                inputs=[
                    "vae_model",
                    "reference_classifier_model",
                    "test_images",
                    "test_labels",
                    "class_names",
                    "params:sample_quality",
                ],
                outputs="prior_sample_metrics",
                name="measure_prior_samples",
            ),
            node(
                compute_morph_success,
                inputs=[
                    "vae_model",
                    "reference_classifier_model",
                    "latent_train",
                    "class_names",
                    "params:morph",
                    "params:sample_quality.morph_starts",
                ],
                outputs="morph_success_metrics",
                name="measure_morph_success",
            ),
            node(
                merge_metrics,
                inputs=["prior_sample_metrics", "morph_success_metrics"],
                outputs="sample_quality_metrics",
                name="collect_sample_quality_metrics",
            ),
            node(
                to_metric_history,
                inputs="sample_quality_metrics",
                outputs="sample_quality_metrics_mlflow",
                name="log_sample_quality_metrics_to_mlflow",
            ),
        ]
    )
