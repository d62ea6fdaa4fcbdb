"""``training``: builds and trains the β-VAE on the model-input images."""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.training.nodes import publish_model, train_model


def create_pipeline(**kwargs) -> Pipeline:
    """Train on ``train_images`` (``test_images`` as validation), then publish."""
    return Pipeline(
        [
            node(
                train_model,
                inputs=["train_images", "test_images", "params:training"],
                outputs=["vae_model", "training_history"],
                name="train_vae_model",
            ),
            node(
                publish_model,
                inputs="vae_model",
                outputs="vae_mlflow_model",
                name="log_vae_model_to_mlflow",
            ),
        ]
    )
