"""The ``sweep.betas`` the registry builds the sweep from: read from configuration.

Kedro registers pipelines before a session exists, without its ``--env`` or
``--params``. The sweep's per-β namespaces are therefore built from the
parameters files of the environment in ``KEDRO_ENV`` (the project's ``kedro
run --env X`` sets it; ``local`` over ``base`` without it), read with the
project's own config loader, so ``kedro run --pipeline=sweep`` means the same
pipeline for the same configuration files. A run whose parameters ask for other
βs (``--params``, or ``KEDRO_ENV`` and ``--env`` disagreeing) is refused before
any node runs by :func:`check_sweep_betas`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from image_vae.errors import UserFacingError


class SweepBetasError(UserFacingError):
    """The run's ``sweep.betas`` differ from those the sweep pipeline was built for."""


def configured_betas(project_path: Path | None = None) -> list[float]:
    """``sweep.betas`` of the configuration in ``KEDRO_ENV``; the schema's default
    where the project's ``conf/`` is not found or the value is not a list.

    Read once per configuration: kedro-dagster builds every pipeline of the
    registry once per node it translates (``find_pipelines`` in its group
    names), and reading the configuration takes ~0.2 s. The answer is kept for
    the same ``conf/``, environment and files (names and contents).
    """
    from kedro.framework.project import settings
    from kedro.utils import find_kedro_project

    from image_vae.parameters import SweepParams

    project = project_path or find_kedro_project(Path.cwd())
    conf = Path(project or ".") / settings.CONF_SOURCE
    if project is None or not conf.is_dir():
        return list(SweepParams().betas)
    env = os.environ.get("KEDRO_ENV")
    key = (str(conf.resolve()), env, _files_state(conf))
    if key not in _READ:
        _READ.clear()
        _READ[key] = _read_betas(conf, env, list(SweepParams().betas))
    return list(_READ[key])


# The last answer of configured_betas, by what it was read from.
_READ: dict[tuple, list[float]] = {}


def _files_state(conf: Path) -> tuple[tuple[str, bytes], ...]:
    """Every file under ``conf`` with its contents (a few small files)."""
    return tuple(
        (str(path), path.read_bytes())
        for path in sorted(conf.rglob("*"))
        if path.is_file()
    )


def _read_betas(conf: Path, env: str | None, default: list[float]) -> list[float]:
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf), env=env, **settings.CONFIG_LOADER_ARGS
    )
    betas = (loader["parameters"].get("sweep") or {}).get("betas")
    if not isinstance(betas, list | tuple) or not betas:
        return default  # the parameter check names what is wrong
    try:
        return [float(beta) for beta in betas]
    except (TypeError, ValueError):
        return default


def check_sweep_betas(built: Iterable[float], requested: Sequence[float]) -> None:
    """Raises :class:`SweepBetasError` unless ``requested`` are the βs ``built``."""
    built = sorted(built)
    if sorted(float(beta) for beta in requested) != built:
        raise SweepBetasError(
            f"sweep.betas: this run asks for {list(requested)} but the sweep "
            f"pipeline is built for {built} from the parameters files of "
            f"KEDRO_ENV={os.environ.get('KEDRO_ENV') or 'local'}; set the βs in "
            "conf/<env>/parameters_sweep.yml (not with --params) and run with "
            "--env <env>"
        )
