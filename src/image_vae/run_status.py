"""MLflow run status after interruptions: KILLED, with the reason, never FINISHED.

MLflow ends a still-active run as FINISHED when Python exits, so a Ctrl-C used
to be recorded as a success, and a SIGTERM or SIGKILL left the run RUNNING for
ever. Here:

- ``end_active_runs`` ends the active run (and its nested runs) with a status
  and a reason; the CLI calls it on Ctrl-C and SIGTERM.
- ``RunStatusHooks`` tags every run with the host and process that own it, and
  at the start of each run marks KILLED the RUNNING runs of this store whose
  process on this host is gone (a SIGKILL, a power cut): the next command
  cleans up after the last one.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

HOST_TAG, PID_TAG, REASON_TAG = (
    "image_vae.host",
    "image_vae.pid",
    "image_vae.end_reason",
)


class Interrupted(KeyboardInterrupt):
    """Raised by the SIGTERM handler, so a termination unwinds like a Ctrl-C."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.reason = signal_name


def end_active_runs(status: str, reason: str) -> list[str]:
    """Ends the active MLflow run and its active parents with ``status``.

    Returns:
        The ids of the runs ended (innermost first); empty when none was active.
    """
    import mlflow

    ended = []
    while (run := mlflow.active_run()) is not None:
        try:
            mlflow.set_tag(REASON_TAG, reason)
        except Exception:
            logger.warning("could not tag run %s with its end reason", run.info.run_id)
        mlflow.end_run(status)
        ended.append(run.info.run_id)
    return ended


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def mark_stale_runs(client: Any, experiment_id: str, host: str) -> list[str]:
    """Marks KILLED the RUNNING runs owned by a process of ``host`` that is gone.

    Nested runs of a stale run (the sweep's) are marked with it.
    """
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    stale = {
        run.info.run_id
        for run in running
        if run.data.tags.get(HOST_TAG) == host
        and run.data.tags.get(PID_TAG, "").isdigit()
        and int(run.data.tags[PID_TAG]) != os.getpid()
        and not _process_alive(int(run.data.tags[PID_TAG]))
    }
    stale |= {
        run.info.run_id
        for run in running
        if run.data.tags.get("mlflow.parentRunId") in stale
    }
    for run_id in sorted(stale):
        client.set_tag(
            run_id,
            REASON_TAG,
            "its process ended without closing the run (SIGKILL or power loss); "
            "marked at the next start",
        )
        client.set_terminated(run_id, "KILLED")
        logger.warning(
            "MLflow run %s was left RUNNING by a killed process: KILLED", run_id
        )
    return sorted(stale)


class RunStatusHooks:
    """Tags the run with its owner, and closes the runs killed processes left open."""

    # Default ordering: after kedro-mlflow's hook has started the run.
    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None:
            return
        host = socket.gethostname()
        mlflow.set_tags({HOST_TAG: host, PID_TAG: str(os.getpid())})
        mark_stale_runs(mlflow.MlflowClient(), run.info.experiment_id, host)
