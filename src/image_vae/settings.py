"""Project settings. See https://docs.kedro.org/en/stable/configure/configuration_basics/"""

from kedro.config import OmegaConfigLoader

import image_vae.vae  # noqa: F401  registers the Keras classes before models load
from image_vae.hooks import ParameterValidationHooks, QuietStartupHooks

HOOKS = (QuietStartupHooks(), ParameterValidationHooks())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments (smoke, local) override single keys, not whole sections.
    "merge_strategy": {"parameters": "soft", "catalog": "soft", "mlflow": "soft"},
}
