"""How long each node took: one log line per node, and the slowest at the end.

Kedro logs which node runs and how many are done, not how long each took; a
user waiting on a run (or the benchmark, which reads these lines to split a
run's time between training and the rest) wants to know where the time went.
A node's time is its function's: from after its inputs are loaded to before its
outputs are saved (Kedro calls ``after_node_run`` before saving them).
"""

from __future__ import annotations

import logging
from time import perf_counter

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

# Nodes named in the closing summary line.
_SLOWEST_SHOWN = 5


class NodeTimesHooks:
    """Logs ``node <name>: <seconds>s`` after every node, and a summary after a run."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self._run_start: float | None = None

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._started, self.seconds = {}, {}
        self._run_start = perf_counter()

    @hook_impl
    def before_node_run(self, node) -> None:
        self._started[node.name] = perf_counter()

    @hook_impl
    def after_node_run(self, node) -> None:
        start = self._started.pop(node.name, None)
        if start is None:
            return
        self.seconds[node.name] = perf_counter() - start
        logger.info("node %s: %.1fs", node.name, self.seconds[node.name])

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._run_start is None or not self.seconds:
            return
        total = perf_counter() - self._run_start
        slowest = sorted(self.seconds.items(), key=lambda item: -item[1])
        logger.info(
            "pipeline: %.1fs in %d nodes; slowest: %s",
            total,
            len(self.seconds),
            ", ".join(f"{name} {s:.1f}s" for name, s in slowest[:_SLOWEST_SHOWN]),
        )
