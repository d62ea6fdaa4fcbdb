"""``evaluation``: encodes the data, measures the model and draws every figure."""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.evaluation.nodes import (
    build_latent_explorer,
    compute_test_metrics,
    encode_images,
    plot_manifold,
    plot_path,
    plot_prior_draws,
    plot_reconstruction_examples,
    plot_test_latents,
    to_metric_history,
)
from image_vae.vae.plotting import plot_training_history


def create_pipeline(**kwargs) -> Pipeline:
    """Every node reads the trained ``vae_model`` or its outputs."""
    return Pipeline(
        [
            node(
                encode_images,
                inputs=["vae_model", "test_images", "test_labels", "class_names"],
                outputs="latent_test",
                name="encode_test_images",
            ),
            # The training set is encoded once per run: the k-NN reference, the
            # class directions of sample quality, and the codes `morph` reuses.
            node(
                encode_images,
                inputs=["vae_model", "train_images", "train_labels", "class_names"],
                outputs="latent_train",
                name="encode_train_images",
            ),
            node(
                compute_test_metrics,
                inputs=[
                    "vae_model",
                    "test_images",
                    "latent_test",
                    "latent_train",
                    "params:evaluation",
                ],
                outputs="test_metrics",
                name="measure_test_losses",
            ),
            node(
                to_metric_history,
                inputs="test_metrics",
                outputs="test_metrics_mlflow",
                name="log_test_metrics_to_mlflow",
            ),
            node(
                plot_training_history,
                inputs="training_history",
                outputs="training_history_plot",
                name="plot_training_history",
            ),
            node(
                plot_reconstruction_examples,
                inputs=[
                    "vae_model",
                    "test_images",
                    "test_labels",
                    "class_names",
                    "params:evaluation.n_reconstructions",
                ],
                outputs="reconstructions_plot",
                name="plot_reconstructions",
            ),
            node(
                plot_test_latents,
                inputs=["latent_test", "class_names"],
                outputs="latent_scatter_plot",
                name="plot_latent_scatter",
            ),
            node(
                plot_prior_draws,
                inputs=[
                    "vae_model",
                    "latent_test",
                    "class_names",
                    "params:evaluation.n_prior_samples",
                    "params:evaluation.seed",
                ],
                outputs="prior_samples_plot",
                name="plot_prior_samples",
            ),
            node(
                plot_manifold,
                inputs=["vae_model", "latent_test", "params:evaluation.manifold_size"],
                outputs="latent_manifold_plot",
                name="plot_latent_manifold",
            ),
            node(
                plot_path,
                inputs=[
                    "vae_model",
                    "latent_test",
                    "class_names",
                    "params:evaluation.latent_path",
                ],
                outputs="latent_path_plot",
                name="plot_latent_path",
            ),
            node(
                build_latent_explorer,
                inputs=[
                    "vae_model",
                    "latent_test",
                    "class_names",
                    "params:evaluation.explorer",
                    "params:morph",
                ],
                outputs="latent_explorer_page",
                name="build_latent_explorer",
            ),
        ]
    )
