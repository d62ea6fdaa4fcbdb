"""NodeTimesHooks: one line per node with its time, and the slowest at the end."""

from __future__ import annotations

import itertools
import logging

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner

from image_vae import node_times_hooks
from image_vae.node_times_hooks import NodeTimesHooks


def _identity(x):
    return x


def test_each_node_is_timed_and_the_slowest_named_first(caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="image_vae.node_times_hooks")
    # A clock read at: run start 0, fast_step 1 → 1.5, slow_step 2 → 5, run end 9.
    ticks = itertools.chain([0.0, 1.0, 1.5, 2.0, 5.0, 9.0])
    monkeypatch.setattr(node_times_hooks, "perf_counter", lambda: next(ticks))
    hooks = NodeTimesHooks()
    pipeline = Pipeline(
        [
            node(_identity, "a", "b", name="fast_step"),
            node(_identity, "b", "c", name="slow_step"),
        ]
    )
    catalog = DataCatalog({"a": MemoryDataset(1)})

    hooks.before_pipeline_run()
    for each in pipeline.nodes:
        hooks.before_node_run(each)
        SequentialRunner().run(Pipeline([each]), catalog)
        hooks.after_node_run(each)
    hooks.after_pipeline_run()

    assert hooks.seconds == {"fast_step": 0.5, "slow_step": 3.0}
    lines = [
        r.getMessage() for r in caplog.records if r.name == "image_vae.node_times_hooks"
    ]
    assert lines == [
        "node fast_step: 0.5s",
        "node slow_step: 3.0s",
        "pipeline: 9.0s in 2 nodes; slowest: slow_step 3.0s, fast_step 0.5s",
    ]
