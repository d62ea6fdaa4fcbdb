"""The start-up a tracked Kedro run cannot do without, and nothing of the project.

Imports TensorFlow and Keras (the model), MLflow and its SQL tracking store (every
run is tracked), Kedro's session and CLI, then opens an existing SQLite store: the
floor under ``kedro run --pipeline=morph`` on this stack. Time it as a whole
process against ``python -c "import tensorflow"``, alternating the two, e.g.::

    python=.venv/bin/python
    $python bench/startup_floor.py /tmp/floor.db   # once: creates the store
    for i in 1 2 3 4 5; do
      /usr/bin/time -f "floor %e s" $python bench/startup_floor.py /tmp/floor.db
      /usr/bin/time -f "tensorflow %e s" $python -c "import tensorflow"
    done

bench/README.md ("2026-12-01 (night)") has the figures measured with it.
"""

import sys
import tempfile

import keras  # noqa: F401
import mlflow  # noqa: F401
import tensorflow  # noqa: F401
from kedro.framework.cli.cli import KedroCLI  # noqa: F401
from kedro.framework.session import KedroSession  # noqa: F401
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: startup_floor.py STORE.db")
    with tempfile.TemporaryDirectory() as artifacts:
        SqlAlchemyStore(f"sqlite:///{sys.argv[1]}", artifacts)
