"""Project CLI: Kedro's own ``run``, with user errors shown as one line.

Kedro loads this module's ``cli`` group and lets its commands override the
built-in ones. ``run`` keeps every option of ``kedro run`` and adds:

- every fault the user can fix ends the command with ``Error: <one line>`` and
  exit code 1 (the mapping lives in ``image_vae.user_messages``); ``--verbose``
  or ``IMAGE_VAE_TRACEBACK=1`` shows the full traceback instead;
- Ctrl-C and SIGTERM end the MLflow run as KILLED, with the reason in its tag
  ``image_vae.end_reason``, and exit with code 130 (MLflow would otherwise
  record an interrupted run as FINISHED, or leave it RUNNING);
- a ``kedro run`` that succeeds as a command of its own (not called from other
  Python code) ends without Python's teardown: see :func:`end_without_teardown`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

import click
from kedro import KedroDeprecationWarning
from kedro.framework.cli.project import run as kedro_run

from image_vae.run_status import Interrupted, end_active_runs
from image_vae.user_messages import one_line, traceback_wanted

_PIPELINES_DIR = Path(__file__).parent / "pipelines"


def _known_pipelines() -> list[str]:
    found = (d.name for d in _PIPELINES_DIR.iterdir() if (d / "__init__.py").exists())
    return ["__default__", *sorted(found)]


def _check_names(ctx: click.Context) -> None:
    """Unknown pipeline or environment names: one line instead of a traceback."""
    requested = [ctx.params.get("pipeline"), *(ctx.params.get("pipelines") or ())]
    known = _known_pipelines()
    for name in filter(None, requested):
        if name not in known:
            raise click.ClickException(
                f"--pipeline: got {name!r}; allowed: {', '.join(known)}"
            )
    env = ctx.params.get("env")
    conf = Path(ctx.params.get("conf_source") or "conf")
    if env and conf.is_dir() and not (conf / env).is_dir():
        envs = sorted(d.name for d in conf.iterdir() if d.is_dir())
        raise click.ClickException(f"--env: got {env!r}; allowed: {', '.join(envs)}")


def end_without_teardown() -> None:
    """Ends this process, once it exits, without freeing its modules one by one.

    After a ``kedro run`` has finished, Python's finalisation (TensorFlow's
    among the modules it tears down) took 5.5–6 s of a smoke run's process on a
    2-core CPU, 2.2 s after a bare ``import tensorflow`` (2026-12-01): seconds
    of every run and every morph with nothing left to do. Registered last, this
    exit handler runs first: it runs every other exit handler (logging's
    flush, MLflow's end of run), flushes the standard streams and ends the
    process with status 0, skipping only the teardown. After an uncaught
    exception (``sys.last_value``) it does nothing: the exit keeps its status.
    """

    def exit_now() -> None:
        atexit.unregister(exit_now)
        if getattr(sys, "last_value", None) is not None:
            return
        atexit._run_exitfuncs()  # the others, in their order
        for stream in (sys.stdout, sys.stderr):
            # A closed stream or a broken pipe has nothing left to keep.
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(0)

    atexit.register(exit_now)


def _is_the_whole_process() -> bool:
    """Whether this command is what the process was started for.

    The ``kedro`` (or ``image-vae``) executable, or ``python -m kedro`` /
    ``python -m image_vae``, not an interactive session, a notebook or a test
    runner that goes on after the command.
    """
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    launched = script.name in {"kedro", "image-vae"} or (
        script.name == "__main__.py" and script.parent.name in {"kedro", "image_vae"}
    )
    return launched and not hasattr(sys, "ps1")


class _InterruptedExit(click.ClickException):
    exit_code = 130  # the shell's code for a command ended by Ctrl-C


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _on_sigterm(handler: Any) -> Any:
    """Installs ``handler`` for SIGTERM; returns the previous one."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program's concern)
        return handler


def _end_runs(status: str, reason: str) -> list[str]:
    try:
        return end_active_runs(status, reason)
    except Exception:
        return []


class _UserErrorsAsOneLine(click.Command):
    def invoke(self, ctx: click.Context) -> Any:
        verbose = ctx.params.pop("verbose", False) or traceback_wanted()
        _check_names(ctx)
        # The registry builds the sweep from this environment's parameters files
        # (pipelines/sweep/configured.py), as `kedro ipython` does; restored after,
        # so a process that invokes this command twice keeps its own setting.
        previous_env = os.environ.get("KEDRO_ENV")
        if ctx.params.get("env"):
            os.environ["KEDRO_ENV"] = ctx.params["env"]
        # `--pipeline=X` is what this project documents; Kedro 1.7 prefers
        # `--pipelines` and would warn on every run.
        warnings.filterwarnings(
            "ignore",
            message="Option '--pipeline' is deprecated",
            category=KedroDeprecationWarning,
        )
        previous = _on_sigterm(_raise_interrupted)
        try:
            result = super().invoke(ctx)
            if _is_the_whole_process():
                end_without_teardown()
            return result
        except KeyboardInterrupt as interrupt:
            reason = getattr(interrupt, "reason", "Ctrl-C (SIGINT)")
            ended = _end_runs("KILLED", f"interrupted by {reason}")
            runs = f"; MLflow run {', '.join(ended)} marked KILLED" if ended else ""
            raise _InterruptedExit(
                f"interrupted by {reason}{runs}; run the same command again "
                "(training resumes from its last checkpoint)"
            ) from None
        except Exception as error:
            line = None if verbose else one_line(error, ctx.params.get("env"))
            # A hook that fails before the runner leaves the MLflow run open,
            # which MLflow would end as FINISHED at exit.
            _end_runs("FAILED", line or f"{type(error).__name__}: {error}")
            if line is None:
                raise
            raise click.ClickException(line) from None
        finally:
            _on_sigterm(previous)
            if previous_env is None:
                os.environ.pop("KEDRO_ENV", None)
            else:
                os.environ["KEDRO_ENV"] = previous_env


@click.group(name="image-vae")
def cli() -> None:
    """Project commands."""


cli.add_command(
    _UserErrorsAsOneLine(
        name="run",
        params=[
            *kedro_run.params,
            click.Option(
                ["--verbose", "-v"],
                is_flag=True,
                help="Show the full traceback of an error instead of one line "
                "(or set IMAGE_VAE_TRACEBACK=1).",
            ),
        ],
        callback=kedro_run.callback,
        help=kedro_run.help,
        short_help=kedro_run.short_help,
    )
)
