"""The registry is static: `kedro run` means the same nodes whatever files exist."""

from kedro.framework.project import configure_project, pipelines

from image_vae.pipeline_registry import DEFAULT_PIPELINES


def test_default_pipeline_is_its_parts_judge_node_included():
    configure_project("image_vae")
    default = {node.name for node in pipelines["__default__"].nodes}

    parts = {node.name for name in DEFAULT_PIPELINES for node in pipelines[name].nodes}
    assert default == parts
    assert {"train_reference_classifier_if_missing", "train_vae_model"} <= default
    assert "walk_toward_target_class" not in default
