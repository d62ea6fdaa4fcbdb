"""``reference_classifier``: the fixed judge of sample quality, trained once.

Its first node trains the classifier only when none is saved yet
(``saved_reference_classifier_model`` loads ``None`` then); every later run, the
sweep and ``sample_quality`` reuse the saved one, so their numbers share one
yardstick.
"""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.evaluation.nodes import to_metric_history
from image_vae.pipelines.reference_classifier.nodes import (
    evaluate_reference_classifier,
    train_reference_classifier_if_missing,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Train on ``train_images``, measure on ``test_images``, log the accuracy."""
    return Pipeline(
        [
            node(
                train_reference_classifier_if_missing,
                inputs=[
                    "saved_reference_classifier_model",
                    "train_images",
                    "train_labels",
                    "class_names",
                    "params:reference_classifier",
                ],
                outputs="reference_classifier_model",
                name="train_reference_classifier_if_missing",
            ),
            node(
                evaluate_reference_classifier,
                inputs=["reference_classifier_model", "test_images", "test_labels"],
                outputs="reference_classifier_metrics",
                name="measure_reference_classifier",
            ),
            node(
                to_metric_history,
                inputs="reference_classifier_metrics",
                outputs="reference_classifier_metrics_mlflow",
                name="log_reference_classifier_metrics_to_mlflow",
            ),
        ]
    )
