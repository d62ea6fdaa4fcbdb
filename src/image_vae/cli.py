"""Project CLI: Kedro's own ``run``, with user errors shown as one line.

Kedro loads this module's ``cli`` group and lets its commands override the
built-in ones. ``run`` keeps every option of ``kedro run``; the only change is
that a ``UserFacingError`` anywhere in the exception chain (a bad parameter, a
corrupt raw file, a NaN loss, a missing model) ends the command with
``Error: <message>`` and exit code 1, instead of a traceback through Kedro,
TensorFlow or NumPy internals.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import click
from kedro import KedroDeprecationWarning
from kedro.framework.cli.project import run as kedro_run

from image_vae.errors import find_user_error

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


class _UserErrorsAsOneLine(click.Command):
    def invoke(self, ctx: click.Context) -> Any:
        _check_names(ctx)
        if ctx.params.get("env"):
            # The registry builds the sweep from this environment's parameters
            # files (pipelines/sweep/configured.py), as `kedro ipython` does.
            os.environ["KEDRO_ENV"] = ctx.params["env"]
        # `--pipeline=X` is what this project documents; Kedro 1.7 prefers
        # `--pipelines` and would warn on every run.
        warnings.filterwarnings(
            "ignore",
            message="Option '--pipeline' is deprecated",
            category=KedroDeprecationWarning,
        )
        try:
            return super().invoke(ctx)
        except Exception as error:
            user_error = find_user_error(error)
            if user_error is None:
                raise
            raise click.ClickException(str(user_error)) from None


@click.group(name="image-vae")
def cli() -> None:
    """Project commands."""


cli.add_command(
    _UserErrorsAsOneLine(
        name="run",
        params=kedro_run.params,
        callback=kedro_run.callback,
        help=kedro_run.help,
        short_help=kedro_run.short_help,
    )
)
