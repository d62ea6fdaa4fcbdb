"""TensorFlow imported quietly, and the model's Keras classes registered, on demand.

Project settings load for every Kedro command; importing TensorFlow there made
``kedro --version`` or a typo pay for it. This hook does it once a session's
context exists, before kedro-mlflow's hooks run and before any dataset loads.
"""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from image_vae._quiet import quiet_startup


class StartupHooks:
    """Imports TensorFlow (quietly) and ``image_vae.vae`` when a context is made."""

    # tryfirst: before kedro-mlflow's own after_context_created, which imports
    # MLflow's autologging integrations and warns when TensorFlow is not loaded.
    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        quiet_startup()
        import image_vae.vae  # noqa: F401  registers VAE and Sampling for loading
