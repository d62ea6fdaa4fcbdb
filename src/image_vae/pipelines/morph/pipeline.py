"""``morph``: reuses the saved model (never trains) to walk toward a class."""

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.morph.nodes import (
    compute_class_direction,
    encode_training_set,
    plot_morph,
    walk_toward_class,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Encode the training set, find the class direction, walk it and draw it."""
    return Pipeline(
        [
            node(
                encode_training_set,
                inputs=[
                    "vae_model",
                    "train_images",
                    "train_labels",
                    "params:training.latent_dim",
                ],
                outputs="latent_train",
                name="encode_training_images",
            ),
            node(
                compute_class_direction,
                inputs=["latent_train", "params:morph"],
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
                inputs=["vae_model", "morph_path", "latent_train", "class_direction"],
                outputs="morph_plot",
                name="plot_morph_path",
            ),
        ]
    )
