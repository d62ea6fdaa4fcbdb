"""``data_processing``: raw Fashion-MNIST IDX arrays → padded float images in [0, 1]."""

from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from image_vae.pipelines.data_processing.nodes import prepare_split


def _prepare(split: str):
    return update_wrapper(partial(prepare_split, split=split), prepare_split)


def create_pipeline(**kwargs) -> Pipeline:
    """One node per split; both read the same pad, each its own subset size."""
    return Pipeline(
        [
            node(
                _prepare(split),
                inputs=[
                    f"{split}_images_raw",
                    f"{split}_labels_raw",
                    "params:data_processing.pad",
                    f"params:data_processing.subset.{split}",
                ],
                outputs=[f"{split}_images", f"{split}_labels"],
                name=f"prepare_{split}_images",
            )
            for split in ("train", "test")
        ]
    )
