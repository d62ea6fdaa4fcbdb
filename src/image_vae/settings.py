"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/"""

import importlib.metadata
import os
from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

from image_vae._quiet import quiet_startup

# Before anything imports TensorFlow: hides its C++ start-up lines (and devices'
# cuInit noise), the known library warnings, and widens logs when not on a TTY.
quiet_startup()
# Figures are rendered off-screen: configuration, not a `matplotlib.use` in nodes.
os.environ.setdefault("MPLBACKEND", "Agg")

import image_vae.vae  # noqa: E402  registers the Keras classes before models load
from image_vae.parameter_hooks import ParameterValidationHooks  # noqa: E402
from image_vae.run_tags_hooks import RunTagsHooks  # noqa: E402
from image_vae.sweep_hooks import SessionPipelinesHooks, sweep_run_hooks  # noqa: E402

HOOKS = (
    ParameterValidationHooks(),
    RunTagsHooks(),
    SessionPipelinesHooks(),
    *sweep_run_hooks(),
)

CONFIG_LOADER_CLASS = OmegaConfigLoader
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
        "package_dir": lambda: str(Path(image_vae.vae.__file__).parents[1]),
        # The project root, so `sqlite:///${project_dir:}/mlflow.db` is the same
        # store from a notebook in notebooks/ as from `kedro run` at the root.
        "project_dir": lambda: str(find_kedro_project(Path.cwd()) or Path.cwd()),
        # "name==installed version", for the MLflow model's pip requirements.
        "pinned": lambda name: f"{name}=={importlib.metadata.version(name)}",
    },
}
