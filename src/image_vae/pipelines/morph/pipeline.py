"""``morph``: reuses the saved model (never trains) to walk toward a class."""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.morph.nodes import (
    compute_class_direction,
    plot_morph,
    training_codes,
    walk_toward_class,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Get the training set's codes, find the class direction, walk it and draw it."""
    return Pipeline(
        [
            node(
                training_codes,
                inputs=[
                    "vae_model",
                    "saved_latent_train",
                    "train_images",
                    "train_labels",
                    "class_names",
                    "params:training.latent_dim",
                    "params:morph.target_class",
                ],
                outputs="morph_latent_train",
                name="get_training_codes",
            ),
            node(
                compute_class_direction,
                inputs=["morph_latent_train", "class_names", "params:morph"],
                outputs="class_direction",
                name="find_class_direction",
            ),
            node(
                walk_toward_class,
                inputs=["class_direction", "params:morph"],
                outputs="morph_path",
                name="walk_toward_target_class",
            ),
            node(
                plot_morph,
                inputs=[
                    "vae_model",
                    "morph_path",
                    "morph_latent_train",
                    "class_names",
                    "class_direction",
                ],
                outputs="morph_plot",
                name="plot_morph_path",
            ),
        ]
    )
