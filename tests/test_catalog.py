"""The real configuration loads: every catalog file parses and every input resolves."""

import pytest
from kedro.framework.project import configure_project, pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project


@pytest.mark.parametrize("env", ["base", "smoke"])
def test_every_pipeline_input_is_in_the_catalog(project_copy, env):
    bootstrap_project(project_copy)
    configure_project("image_vae")
    with KedroSession.create(project_path=project_copy, env=env) as session:
        catalog = session.load_context().catalog
        for name, pipeline in pipelines.items():
            for dataset in pipeline.inputs():
                if not dataset.startswith("params:"):
                    assert dataset in catalog, f"{name}: {dataset}"
