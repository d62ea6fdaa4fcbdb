"""The exploration notebook: committed without outputs, runs on the smoke outputs.

Run this file as a script to strip the notebook's outputs before committing:
``python tests/test_notebook.py``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest
from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets import Type, default

from tests_support import tracking_uri

NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "notebooks" / "explore_latent_space.ipynb"
)
WIDGET_CELLS = 3  # Try: chosen point, straight path, class morph
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


class _SlicedPollChannel(AsyncZMQSocketChannel):
    """Waits for a message in 1 s polls instead of one long one.

    nbclient awaits a cell's reply with one poll of the shell socket for the
    whole cell timeout, while it reads the iopub socket. On a loaded machine
    that poll can miss the reply of a cell that opens widgets and return only at
    the timeout (jupyter/nbclient#312): 120 s lost after the first widget cell,
    in two full-suite runs of four, and with this test alone beside four
    CPU-bound processes. A fresh poll every second finds the reply within one.
    """

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            try:
                return await super().get_msg(timeout=max(0.0, min(1.0, left)))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class _SlicedPollClient(AsyncKernelClient):
    shell_channel_class = Type(_SlicedPollChannel)


class _KernelManager(AsyncKernelManager):
    @default("client_factory")
    def _client_factory_default(self) -> type:
        return _SlicedPollClient


def strip_outputs(path: Path) -> None:
    """Removes outputs, execution counts and saved widget state, in place."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, path)


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty and "widgets" not in notebook.metadata, (
        f"cells {dirty} of {NOTEBOOK.name} keep outputs; strip them with "
        "`python tests/test_notebook.py`"
    )


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_on_the_smoke_outputs(
    smoke_project: Path, monkeypatch: pytest.MonkeyPatch
):
    # The shared smoke run's model and encoded test set, read in place; the
    # notebook's working folder is a fresh notebooks/ beside them.
    monkeypatch.setenv("KEDRO_ENV", "smoke")  # read by %load_ext kedro.ipython
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(smoke_project))
    notebooks = smoke_project / "notebooks"
    notebooks.mkdir(exist_ok=True)

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        kernel_manager_class=_KernelManager,
        resources={"metadata": {"path": str(notebooks)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{error}\n{_failed_cell_output(notebook)}")

    outputs = [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]
    figures = [o for o in outputs if any("image/png" in x.get("data", {}) for x in o)]
    assert len(figures) == 1  # the latent scatter; the Try figures are in widgets
    views = [o for o in outputs if any(WIDGET_VIEW in x.get("data", {}) for x in o)]
    assert len(views) == WIDGET_CELLS
    # Each Try cell's interact drew its figure once, into its Output widget.
    states = notebook.metadata["widgets"][WIDGET_STATE]["state"].values()
    drawn = [
        s
        for s in states
        if s["model_name"] == "OutputModel"
        and any("image/png" in o.get("data", {}) for o in s["state"]["outputs"])
    ]
    assert len(drawn) == WIDGET_CELLS
    printed = "".join(x.get("text", "") for o in outputs for x in o)
    assert "env 'smoke': latent_dim=2, 500 test images encoded" in printed


def _failed_cell_output(notebook: nbformat.NotebookNode) -> str:
    """The text a failing cell showed: Kedro's rich tracebacks arrive as displays."""
    executed = [c for c in notebook.cells if c.get("execution_count") is not None]
    if not executed:
        return ""
    texts = [
        output.get("text") or output.get("data", {}).get("text/plain", "")
        for output in executed[-1].outputs
    ]
    return re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\", "", "\n".join(texts))


if __name__ == "__main__":
    strip_outputs(NOTEBOOK)
