"""kedro-viz: the static site lists every registered pipeline, its nodes and layers.

The site is ``kedro viz build`` of the shared smoke project (``viz_build`` in
conftest), the one tests/test_browser.py opens in chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kedro.framework.project import configure_project, pipelines

pytestmark = pytest.mark.slow

# Kedro's data layers, in flow order; kedro-viz draws one band per layer.
LAYERS = ("raw", "intermediate", "model_input", "models", "model_output", "reporting")


@pytest.fixture
def registered() -> dict[str, set[str]]:
    """Node names of every registered pipeline, straight from the registry."""
    configure_project("image_vae")
    return {name: {n.name for n in pipe.nodes} for name, pipe in pipelines.items()}


def test_viz_build_lists_every_pipeline_with_its_nodes_and_layers(
    viz_build: Path, registered: dict[str, set[str]]
):
    built = viz_build / "api" / "pipelines"
    assert {path.name for path in built.iterdir()} == set(registered)
    for name, node_names in registered.items():
        graph = json.loads((built / name).read_text())
        # Namespaced nodes (the sweep) show their short name; full_name is the node's.
        tasks = {n["full_name"] for n in graph["nodes"] if n["type"] == "task"}
        assert tasks == node_names, name

        # Catalogued datasets; MemoryDatasets between nodes have no entry to tag.
        datasets = [
            node
            for node in graph["nodes"]
            if node["type"] == "data"
            and not node["dataset_type"].endswith("MemoryDataset")
        ]
        unlayered = [node["name"] for node in datasets if node["layer"] not in LAYERS]
        assert not unlayered, f"{name}: datasets without a known layer: {unlayered}"
        layers = {node["id"]: node["layer"] for node in datasets}
        backward = list(_backward_flows(graph, layers))
        assert not backward, f"{name}: outputs in an earlier layer than inputs"

    # The full run is one connected flow, so kedro-viz stacks its layer bands in
    # order; separate pipelines may tie (e.g. models and model_output in training).
    default = json.loads((built / "__default__").read_text())["layers"]
    assert default == [layer for layer in LAYERS if layer in default]


def _backward_flows(graph: dict, layers: dict[str, str]):
    """(input, output) dataset pairs of one node whose layers run against the flow."""
    names = {node["id"]: node["name"] for node in graph["nodes"]}
    inputs, outputs = {}, {}
    for edge in graph["edges"]:
        if edge["source"] in layers:
            inputs.setdefault(edge["target"], []).append(edge["source"])
        if edge["target"] in layers:
            outputs.setdefault(edge["source"], []).append(edge["target"])
    for task, sources in inputs.items():
        for source in sources:
            for target in outputs.get(task, []):
                if LAYERS.index(layers[source]) > LAYERS.index(layers[target]):
                    yield names[source], names[target]
