"""Project CLI: Kedro's own ``run``, with user errors shown as one line.

Kedro loads this module's ``cli`` group and lets its commands override the
built-in ones. ``run`` keeps every option of ``kedro run``; the only change is
that a ``UserFacingError`` anywhere in the exception chain (a bad parameter, a
corrupt raw file, a NaN loss, a missing model) ends the command with
``Error: <message>`` and exit code 1, instead of a traceback through Kedro,
TensorFlow or NumPy internals.
"""

from __future__ import annotations

import warnings
from typing import Any

import click
from kedro import KedroDeprecationWarning
from kedro.framework.cli.project import run as kedro_run

from image_vae.errors import find_user_error


class _UserErrorsAsOneLine(click.Command):
    def invoke(self, ctx: click.Context) -> Any:
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
