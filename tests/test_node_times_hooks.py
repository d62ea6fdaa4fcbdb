"""NodeTimesHooks: one line per node with its time, and the slowest at the end."""

from __future__ import annotations

import logging
import re
import time

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner

from image_vae.node_times_hooks import NodeTimesHooks


def _slow(x):
    time.sleep(0.2)
    return x


def _fast(x):
    return x


def test_each_node_is_timed_and_the_slowest_named_first(caplog):
    caplog.set_level(logging.INFO, logger="image_vae.node_times_hooks")
    hooks = NodeTimesHooks()
    pipeline = Pipeline(
        [
            node(_fast, "a", "b", name="fast_step"),
            node(_slow, "b", "c", name="slow_step"),
        ]
    )
    catalog = DataCatalog({"a": MemoryDataset(1)})

    hooks.before_pipeline_run()
    for each in pipeline.nodes:
        hooks.before_node_run(each)
        SequentialRunner().run(Pipeline([each]), catalog)
        hooks.after_node_run(each)
    hooks.after_pipeline_run()

    assert hooks.seconds["slow_step"] >= 0.2 > hooks.seconds["fast_step"]
    lines = [
        r.getMessage() for r in caplog.records if r.name == "image_vae.node_times_hooks"
    ]
    assert re.fullmatch(r"node slow_step: \d+\.\ds", lines[1])
    assert re.fullmatch(
        r"pipeline: \d+\.\ds in 2 nodes; slowest: slow_step \d+\.\ds, fast_step .*",
        lines[-1],
    )
