"""Progress off a terminal: a log line at most every interval, and one at the end."""

import logging

from image_vae.vae.progress import Progress


def test_logs_progress_after_each_interval_and_the_total_at_the_end(caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.progress")
    progress = Progress("IWAE bound", 10, interval=0.0, bar=False)

    progress.update(4, loss=1.5)
    progress.update(10)  # done: the finish line says it
    progress.finish()

    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("IWAE bound: 4/10 images (40%)")
    assert lines[0].endswith("loss=1.5000")
    assert lines[1].startswith("IWAE bound: 10 images in ")
    assert len(lines) == 2


def test_stays_quiet_within_the_interval(caplog):
    caplog.set_level(logging.INFO, logger="image_vae.vae.progress")
    progress = Progress("work", 10, interval=3600.0, bar=False)

    progress.update(5)

    assert caplog.records == []
