"""The one place that turns an exception into the line the user sees.

``one_line(error)`` walks the exception's cause/context chain and answers with a
single line for every fault the user can fix: a ``UserFacingError`` (bad
parameter, damaged file, NaN loss, missing model), a dataset that cannot be
loaded (any cause) or saved (a full or read-only disk), a damaged or read-only
MLflow store, a broken configuration file, memory exhausted. It returns ``None``
for anything else: that is a bug, and keeps its traceback.

The project's ``kedro run`` (``image_vae.cli``) prints the line as ``Error: …``;
``kedro run --verbose`` or ``IMAGE_VAE_TRACEBACK=1`` shows the traceback instead.
New nodes and datasets inherit all of this: raise a ``UserFacingError`` subclass,
or let the library's own exception through.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from typing import Any

from image_vae.errors import UserFacingError

TRACEBACK_VARIABLE = "IMAGE_VAE_TRACEBACK"

_DATASET_FAILURE = re.compile(
    r"^(?P<name>[^\s:]+): Failed while (?P<op>loading|saving) data (?:from|to) dataset"
)
_CATALOG_ENTRY = re.compile(
    r"(?:parsing config for dataset|Dataset|instantiate dataset|Catalog entry) "
    r"'(?P<name>[^']+)'"
)
_FILEPATH = re.compile(r"filepath=(?:\w*Path\(')?([^,')]+)")
_RAW_SUFFIX = "_raw"


def traceback_wanted() -> bool:
    """Whether ``IMAGE_VAE_TRACEBACK`` asks for full tracebacks."""
    return os.environ.get(TRACEBACK_VARIABLE, "").lower() in {"1", "true", "yes"}


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _all_pipelines() -> dict[str, Any]:
    """Every pipeline of the package, built afresh: Kedro's registry holds only the
    pipelines a ``kedro run --pipeline=X`` asked for."""
    import importlib
    import pkgutil

    import image_vae.pipelines

    found = {}
    for module in pkgutil.iter_modules(image_vae.pipelines.__path__):
        try:
            package = importlib.import_module(f"image_vae.pipelines.{module.name}")
            found[module.name] = package.create_pipeline()
        except Exception:
            continue
    return found


def producing_pipeline(name: str) -> str | None:
    """The narrowest pipeline whose nodes write dataset ``name`` (fewest to rerun)."""
    found = [
        (len(pipeline.nodes), key)
        for key, pipeline in _all_pipelines().items()
        if name in pipeline.all_outputs()
    ]
    return min(found)[1] if found else None


def rebuild_hint(name: str, env: str | None = None) -> str:
    """The command that writes dataset ``name`` again."""
    if name.endswith(_RAW_SUFFIX):
        return "delete it: the next `kedro run` obtains it again (or run `make data`)"
    pipeline = producing_pipeline(name)
    suffix = f" --env {env}" if env else ""
    if pipeline:
        return f"rebuild it with `kedro run --pipeline={pipeline}{suffix}`"
    return f"rebuild it with `kedro run{suffix}`"


def _os_error_line(error: OSError) -> str | None:
    where = error.filename or "a file"
    if error.errno == errno.ENOSPC:
        return (
            f"no space left on the device while writing {where}: free some space "
            "and run the same command again (earlier outputs are intact)"
        )
    if error.errno in {errno.EROFS, errno.EACCES, errno.EPERM}:
        what = (error.strerror or "not writable").lower()
        return f"{where}: {what}; make it writable or choose another path"
    if error.errno == errno.ENOMEM:
        return "out of memory: lower training.batch_size or the sizes of the run"
    return None


def _store_line(error: BaseException) -> str | None:
    """A SQLAlchemy/sqlite failure of the MLflow store, or ``None``."""
    module = type(error).__module__
    if not (module.startswith("sqlalchemy") or module.startswith("sqlite3")):
        return None
    text = _first_line(getattr(error, "orig", None) or error)
    text = re.sub(r"^\(\S+\)\s*", "", text)
    try:
        import mlflow

        store = mlflow.get_tracking_uri()
    except Exception:
        store = "the MLflow tracking store"
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        fix = "make it (and its folder) writable"
    elif "unable to open" in lowered:
        fix = "check that its folder exists and is writable"
    elif "locked" in lowered:
        fix = "another process holds it; wait for it, or stop it, and run again"
    else:
        fix = (
            "it is damaged: move it aside (a new empty store is created) or restore "
            "a backup"
        )
    return f"MLflow store {store}: {text}; {fix}"


def _cause_line(error: BaseException) -> str | None:
    """The line for the deepest cause in the chain we know how to explain."""
    for link in _chain(error):
        if isinstance(link, UserFacingError):
            return str(link)
        line = _store_line(link)
        if line:
            return line
        if isinstance(link, OSError):
            line = _os_error_line(link)
            if line:
                return line
        if isinstance(link, MemoryError):
            return "out of memory: lower training.batch_size or the sizes of the run"
        if type(link).__module__.startswith("yaml"):
            return _yaml_line(link)
    return None


def _yaml_line(error: Any) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    problem = getattr(error, "problem", None) or _first_line(error)
    return f"configuration: invalid YAML{where}: {problem}"


def _dataset_failure(error: BaseException) -> tuple[str, str, str | None] | None:
    """(dataset name, "loading"/"saving", its filepath) of the outermost failure."""
    for link in _chain(error):
        match = _DATASET_FAILURE.match(str(link))
        if match:
            path = _FILEPATH.search(str(link))
            return match["name"], match["op"], path[1] if path else None
    return None


def _catalog_entry_line(error: BaseException) -> str | None:
    """A catalog entry Kedro could not turn into a dataset, or ``None``."""
    for link in _chain(error):
        match = _CATALOG_ENTRY.search(str(link))
        if match and type(link).__name__ == "DatasetError":
            root = list(_chain(error))[-1]
            lines = [
                line.strip()
                for line in str(root).splitlines()
                if line.strip() and not line.startswith("An exception occurred")
            ]
            what = _cause_line(error) or (lines[0] if lines else type(root).__name__)
            return (
                f"catalog entry {match['name']!r}: {what.rstrip('.:')}; fix it in "
                "conf/<env>/catalog*.yml"
            )
    return None


def one_line(error: BaseException, env: str | None = None) -> str | None:
    """The single line shown for ``error``, or ``None`` if it is a bug.

    Args:
        error: What the command raised.
        env: The Kedro environment of the run, for the commands the line suggests.
    """
    dataset = _dataset_failure(error)
    cause = _cause_line(error)
    if dataset is None:
        return _catalog_entry_line(error) or cause
    name, op, path = dataset
    root = list(_chain(error))[-1]
    if op == "saving":
        # A save that fails for a reason other than the disk is a bug in a node.
        return f"{name}: cannot save {path or ''}: {cause}" if cause else None
    what = cause or f"{path}: {type(root).__name__}: {_first_line(root)}"
    if path and path not in what:
        what = f"{path}: {what}"
    return f"{name}: cannot load {what}; {rebuild_hint(name, env)}"
