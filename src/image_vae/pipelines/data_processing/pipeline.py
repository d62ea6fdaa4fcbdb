"""``data_processing``: the configured image source → uint8 model input."""

from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.data_processing.nodes import plan_model_input, prepare_split


def _prepare(split: str):
    return update_wrapper(partial(prepare_split, split=split), prepare_split)


def create_pipeline(**kwargs) -> Pipeline:
    """Plan once (split, size, checks), then write each split."""
    return Pipeline(
        [
            node(
                plan_model_input,
                inputs=[
                    "raw_images",
                    "params:data_processing",
                    "params:training.filters",
                    "params:morph.target_class",
                ],
                outputs=["image_plan", "class_names"],
                name="plan_model_input",
            ),
            *(
                node(
                    _prepare(split),
                    inputs="image_plan",
                    outputs=[f"{split}_images", f"{split}_labels"],
                    name=f"prepare_{split}_images",
                )
                for split in ("train", "test")
            ),
        ]
    )
