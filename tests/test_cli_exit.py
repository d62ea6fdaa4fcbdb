"""How a successful ``kedro run`` process ends: every exit handler, no teardown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from image_vae import cli

# A process that ends like a finished `kedro run`: an exit handler registered
# before (as logging's and MLflow's are), output not yet flushed, and an object
# whose finaliser only Python's teardown would call.
_PROCESS = textwrap.dedent(
    """
    import atexit, sys
    from pathlib import Path
    from image_vae.cli import end_without_teardown

    out = Path(sys.argv[1])

    class FreedAtTeardown:
        def __del__(self):
            (out / "teardown").write_text("ran")

    kept = FreedAtTeardown()
    atexit.register(lambda: (out / "handler").write_text("ran"))
    if sys.argv[2] == "skip":
        end_without_teardown()
    sys.stdout.write("the run's last words")
    if sys.argv[3] == "fail":
        raise RuntimeError("a failure after the command")
    """
)


def _end(out: Path, mode: str, then: str) -> subprocess.CompletedProcess:
    out.mkdir()
    return subprocess.run(
        [sys.executable, "-c", _PROCESS, str(out), mode, then],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_finished_run_ends_after_every_exit_handler_without_teardown(tmp_path):
    skipped = _end(tmp_path / "skip", "skip", "ok")
    kept = _end(tmp_path / "keep", "keep", "ok")

    assert skipped.returncode == kept.returncode == 0, skipped.stderr + kept.stderr
    assert skipped.stdout.endswith("the run's last words")  # flushed
    assert kept.stdout.endswith("the run's last words")
    assert (tmp_path / "skip" / "handler").exists()
    assert not (tmp_path / "skip" / "teardown").exists()
    assert (tmp_path / "keep" / "teardown").exists()  # what the skip leaves out


def test_an_uncaught_error_after_the_run_keeps_its_exit_status(tmp_path):
    failed = _end(tmp_path / "fail", "skip", "fail")

    assert failed.returncode == 1
    assert "RuntimeError: a failure after the command" in failed.stderr
    assert (tmp_path / "fail" / "handler").exists()


@pytest.mark.parametrize(
    ("argv0", "whole"),
    [
        ("/project/.venv/bin/kedro", True),
        ("/project/.venv/bin/image-vae", True),
        ("/project/.venv/lib/python3.11/site-packages/kedro/__main__.py", True),
        ("/project/src/image_vae/__main__.py", True),
        ("/project/.venv/bin/pytest", False),
        ("-c", False),
        ("", False),
    ],
)
def test_only_a_command_line_kedro_process_skips_the_teardown(
    monkeypatch, argv0, whole
):
    monkeypatch.setattr(sys, "argv", [argv0, "run"])

    assert cli._is_the_whole_process() is whole
