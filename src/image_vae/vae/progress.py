"""Progress of long work: a bar in a terminal, a log line every few seconds otherwise.

Keras' own :class:`keras.utils.Progbar` draws the bar; off a terminal (CI, a
pipe, a log file) a bar is noise, so one ``INFO`` line is logged at most every
``interval`` seconds instead, and one at the end.
"""

from __future__ import annotations

import logging
import sys
import time

import keras

logger = logging.getLogger(__name__)

# Seconds between log lines off a terminal: a run that says nothing for longer
# than about half a minute looks hung.
LOG_INTERVAL = 20.0


class Progress:
    """Reports ``done / total`` of one piece of work named ``what``.

    Args:
        what: What is being done, e.g. ``"IWAE bound"``.
        total: Units of work in all (images, steps…).
        unit: Name of a unit, for the log lines.
        interval: Seconds between log lines off a terminal.
        bar: Draw Keras' progress bar; ``None``: when stdout is a terminal.
    """

    def __init__(
        self,
        what: str,
        total: int,
        unit: str = "images",
        interval: float = LOG_INTERVAL,
        bar: bool | None = None,
    ) -> None:
        self.what, self.total, self.unit, self.interval = what, total, unit, interval
        self.bar = (
            keras.utils.Progbar(total, unit_name=unit)
            if (sys.stdout.isatty() if bar is None else bar)
            else None
        )
        self.start = self._last = time.perf_counter()

    def update(self, done: int, **values: float) -> None:
        """Records that ``done`` units are finished; ``values`` are shown too."""
        if self.bar is not None:
            self.bar.update(done, values=list(values.items()))
            return
        now = time.perf_counter()
        if now - self._last >= self.interval and done < self.total:
            self._last = now
            shown = "".join(f" {k}={v:.4f}" for k, v in values.items())
            logger.info(
                "%s: %d/%d %s (%.0f%%), %.0fs%s",
                self.what,
                done,
                self.total,
                self.unit,
                100.0 * done / max(self.total, 1),
                now - self.start,
                shown,
            )

    def finish(self) -> float:
        """Logs the total time (off a terminal) and returns it in seconds."""
        seconds = time.perf_counter() - self.start
        if self.bar is None:
            logger.info("%s: %d %s in %.1fs", self.what, self.total, self.unit, seconds)
        return seconds
