"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/"""

import importlib.metadata
import os
from pathlib import Path

from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

import image_vae
from image_vae._quiet import quiet_startup

# Every Kedro command loads these settings, `kedro --version` and typos included,
# so nothing here imports TensorFlow: StartupHooks does, quietly, once a session
# needs it. This hides the known library warnings and widens logs off a TTY.
quiet_startup(import_tensorflow=False)
# Figures are rendered off-screen: configuration, not a `matplotlib.use` in nodes.
os.environ.setdefault("MPLBACKEND", "Agg")

from image_vae.config_loader import CheckedConfigLoader  # noqa: E402
from image_vae.input_checks import InputChecksHooks  # noqa: E402
from image_vae.node_times_hooks import NodeTimesHooks  # noqa: E402
from image_vae.parameter_hooks import ParameterValidationHooks  # noqa: E402
from image_vae.run_status import RunStatusHooks  # noqa: E402
from image_vae.run_tags_hooks import RunTagsHooks  # noqa: E402
from image_vae.startup_hooks import StartupHooks  # noqa: E402
from image_vae.sweep_hooks import (  # noqa: E402
    SweepBetasHooks,
    SweepProgressHooks,
    sweep_run_hooks,
)
from image_vae.tracking_hooks import tracking_hooks  # noqa: E402
from image_vae.training_lock import TrainingLockHooks  # noqa: E402

HOOKS = (
    StartupHooks(),
    ParameterValidationHooks(),
    RunTagsHooks(),
    SweepBetasHooks(),
    SweepProgressHooks(),
    *sweep_run_hooks(),
    RunStatusHooks(),
    InputChecksHooks(),
    TrainingLockHooks(),
    NodeTimesHooks(),
    *tracking_hooks(),
)

# OmegaConfigLoader that names a faulty file and line in one line.
CONFIG_LOADER_CLASS = CheckedConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments (smoke, local) override single keys, not whole sections.
    "merge_strategy": {"parameters": "soft", "catalog": "soft", "mlflow": "soft"},
    # Lets mlflow.yml read MLFLOW_TRACKING_URI (Kedro allows oc.env only in
    # credentials by default).
    "custom_resolvers": {
        "oc.env": oc.env,
        # The installed package's folder, shipped with the MLflow model as code.
        "package_dir": lambda: str(Path(image_vae.__file__).parent),
        # The project root, so `sqlite:///${project_dir:}/mlflow.db` is the same
        # store from a notebook in notebooks/ as from `kedro run` at the root.
        "project_dir": lambda: str(find_kedro_project(Path.cwd()) or Path.cwd()),
        # "name==installed version", for the MLflow model's pip requirements.
        "pinned": lambda name: f"{name}=={importlib.metadata.version(name)}",
    },
}
