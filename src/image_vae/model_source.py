"""A trained VAE taken from any MLflow model URI instead of the local saved file.

``morph.model_uri`` and ``evaluation.model_uri`` name a model in MLflow:
``models:/image_vae/latest``, ``models:/image_vae@champion``,
``models:/image_vae/3``, ``models:/<model id>`` or ``runs:/<run id>/vae_model``.
MLflow resolves and loads it (``mlflow.tensorflow.load_model``, which downloads
the artifacts from the tracking server); this module only pins a moving
reference (``latest``, an alias) to one version first, so the model loaded and the
version the run is tagged with are the same, and refuses a URI that does not
resolve or a model that does not fit the data, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from image_vae.errors import UserFacingError

URI_FORMS = (
    "models:/<name>/<version|latest>, models:/<name>@<alias>, "
    "models:/<model id> or runs:/<run id>/<path>"
)


class ModelUriError(UserFacingError):
    """A model URI that does not resolve, or whose model does not fit the data."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model came from: the URI given and what it resolved to."""

    uri: str
    load_uri: str
    name: str | None = None
    version: str | None = None
    run_id: str | None = None
    model_id: str | None = None

    def run_tags(self) -> dict[str, str]:
        """Tags for the run that uses the model: its lineage."""
        tags = {"model_uri": self.uri}
        for key, value in (
            ("model_name", self.name),
            ("model_version", self.version),
            ("model_run_id", self.run_id),
            ("model_id", self.model_id),
        ):
            if value:
                tags[key] = value
        return tags

    def describe(self) -> str:
        """``image_vae v3`` or the URI, for a run name."""
        return f"{self.name} v{self.version}" if self.name else self.uri


def resolve_model_uri(uri: str, parameter: str, client: Any) -> ModelSource:
    """Pins ``uri`` to one model, via the registry or the run that logged it.

    Args:
        uri: An MLflow model URI (see ``URI_FORMS``).
        parameter: The parameter that gave it, for the error message.
        client: An ``mlflow.MlflowClient`` of the tracking server.

    Raises:
        ModelUriError: The URI is malformed or names nothing on the server.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    try:
        if uri.startswith("models:/"):
            resolved = get_model_name_and_version(client, uri)
            if len(resolved) == 1:  # models:/<model id>
                logged = client.get_logged_model(resolved[0])
                return ModelSource(
                    uri, uri, run_id=logged.source_run_id, model_id=logged.model_id
                )
            name, version = resolved
            found = client.get_model_version(name, version)
            return ModelSource(
                uri,
                f"models:/{name}/{version}",
                name=name,
                version=str(version),
                run_id=found.run_id,
                model_id=getattr(found, "model_id", None),
            )
        if uri.startswith("runs:/"):
            run_id = uri.removeprefix("runs:/").split("/", 1)[0]
            client.get_run(run_id)
            return ModelSource(uri, uri, run_id=run_id)
    except MlflowException as error:
        raise _unresolved(uri, parameter, client, error) from None
    raise ModelUriError(f"{parameter}: got {uri!r}; allowed: {URI_FORMS}")


def load_model(source: ModelSource, parameter: str, client: Any) -> Any:
    """The Keras model behind ``source``, loaded by MLflow's tensorflow flavor."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.tensorflow.load_model(source.load_uri)
    except (MlflowException, OSError) as error:
        raise _unresolved(source.uri, parameter, client, error) from None


def check_model_fits(
    model: Any,
    source: ModelSource,
    parameter: str,
    latent_dim: Any,
    image_shape: tuple[int, ...] | None,
) -> None:
    """Refuses a model whose latent size or image shape does not fit this run.

    Args:
        model: The loaded VAE (``latent_dim``, ``image_shape``).
        source: Where it came from, for the message.
        parameter: The parameter that named it.
        latent_dim: ``training.latent_dim`` of this run's parameters.
        image_shape: ``(H, W, C)`` of this run's model input, or ``None`` if unknown.
    """
    model_dim = getattr(model, "latent_dim", None)
    model_shape = tuple(getattr(model, "image_shape", ()) or ())
    if model_dim is None or not model_shape:
        raise ModelUriError(
            f"{parameter}: {source.uri!r} is not an image_vae VAE "
            f"(got a {type(model).__name__}); allowed: a model logged by `kedro run`"
        )
    if model_dim != latent_dim:
        raise ModelUriError(
            f"{parameter}: {source.uri!r} has latent size {model_dim}, but "
            f"training.latent_dim is {latent_dim}; add "
            f"--params training.latent_dim={model_dim} or choose another model"
        )
    if image_shape is not None and model_shape != tuple(image_shape):
        raise ModelUriError(
            f"{parameter}: {source.uri!r} takes images of shape {_shape(model_shape)},"
            f" but this data gives {_shape(image_shape)} (check "
            "data_processing.pad); choose a model trained on this data"
        )


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


def _unresolved(
    uri: str, parameter: str, client: Any, error: Exception
) -> ModelUriError:
    reason = str(getattr(error, "message", None) or error).strip().splitlines()[0]
    return ModelUriError(
        f"{parameter}: {uri!r} does not resolve on {client.tracking_uri} ({reason}); "
        f"allowed: {URI_FORMS}"
    )
