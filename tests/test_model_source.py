"""Model URIs: what resolves, what is refused, on a real MLflow store and model."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pytest

from image_vae.model_source import (
    ModelUriError,
    check_model_fits,
    load_model,
    resolve_model_uri,
)
from image_vae.pipelines.evaluation.pipeline import (
    create_pipeline as evaluation_pipeline,
)
from image_vae.pipelines.morph.pipeline import create_pipeline as morph_pipeline
from image_vae.pipelines.training.pipeline import (
    create_pipeline as training_pipeline,
)
from image_vae.tracking_hooks import requested_model_uri, run_name
from image_vae.vae import VAE

SHAPE = (8, 8, 1)
PARAMETER = "morph.model_uri"


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, empty_store: Path
) -> mlflow.MlflowClient:
    """A SQLite store holding one tiny VAE, registered as ``image_vae`` version 1."""
    root = tmp_path_factory.mktemp("store")
    shutil.copy(empty_store, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("t", artifact_location=str(root / "a"))
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.tensorflow.log_model(
                VAE(SHAPE, 2, filters=(4, 8), beta=2.0, seed=0),
                name="vae_model",
                registered_model_name="image_vae",
                pip_requirements=["tensorflow"],
            )
    finally:
        mlflow.set_tracking_uri(None)
    client.run_id = run.info.run_id  # for the tests
    return client


@pytest.fixture
def tracking(store, monkeypatch: pytest.MonkeyPatch) -> mlflow.MlflowClient:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    mlflow.set_tracking_uri(store.tracking_uri)
    yield store
    mlflow.set_tracking_uri(None)


def test_latest_and_alias_resolve_to_one_version_and_its_run(tracking):
    latest = resolve_model_uri("models:/image_vae/latest", PARAMETER, tracking)
    assert (latest.name, latest.version, latest.run_id) == (
        "image_vae",
        "1",
        tracking.run_id,
    )
    assert latest.load_uri == "models:/image_vae/1"
    assert latest.run_tags()["model_version"] == "1"

    tracking.set_registered_model_alias("image_vae", "champion", "1")
    champion = resolve_model_uri("models:/image_vae@champion", PARAMETER, tracking)
    assert champion.load_uri == "models:/image_vae/1"
    model = load_model(champion, PARAMETER, tracking)
    assert (model.latent_dim, model.image_shape, model.beta) == (2, SHAPE, 2.0)
    check_model_fits(model, champion, PARAMETER, 2, SHAPE)  # fits: no error

    run_uri = f"runs:/{tracking.run_id}/vae_model"
    by_run = resolve_model_uri(run_uri, PARAMETER, tracking)
    assert by_run.run_id == tracking.run_id and by_run.name is None
    assert load_model(by_run, PARAMETER, tracking).latent_dim == 2


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("models:/no_such_model/latest", "no_such_model"),
        ("models:/image_vae/7", "image_vae"),
        ("models:/image_vae@missing_alias", "missing_alias"),
        ("runs:/0123456789abcdef0123456789abcdef/vae_model", "0123456789abcdef"),
        ("models:/a/b/c", "Not a proper models:/ URI"),
    ],
)
def test_a_uri_that_does_not_resolve_is_refused_in_one_line(tracking, uri, why):
    with pytest.raises(ModelUriError) as error:
        resolve_model_uri(uri, PARAMETER, tracking)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{PARAMETER}: {uri!r} does not resolve on sqlite:")
    assert why in message and "allowed: models:/<name>/<version|latest>" in message


def test_a_run_without_that_model_is_refused_when_loading(tracking):
    source = resolve_model_uri(
        f"runs:/{tracking.run_id}/not_a_model", PARAMETER, tracking
    )
    with pytest.raises(ModelUriError, match=r"'runs:/.*/not_a_model' does not resolve"):
        load_model(source, PARAMETER, tracking)


def test_a_uri_of_another_kind_is_refused(tracking):
    with pytest.raises(ModelUriError, match=r"got 'data/06_models/x.keras'; allowed"):
        resolve_model_uri("data/06_models/x.keras", PARAMETER, tracking)


def test_a_model_that_does_not_fit_the_data_is_refused(tracking):
    source = resolve_model_uri("models:/image_vae/1", PARAMETER, tracking)
    model = load_model(source, PARAMETER, tracking)
    with pytest.raises(ModelUriError, match="has latent size 2, but training"):
        check_model_fits(model, source, PARAMETER, 3, SHAPE)
    with pytest.raises(ModelUriError, match=r"takes images of shape 8×8×1.*32×32×1"):
        check_model_fits(model, source, PARAMETER, 2, (32, 32, 1))
    with pytest.raises(ModelUriError, match="is not an image_vae VAE"):
        check_model_fits(object(), source, PARAMETER, 2, SHAPE)


def test_which_pipelines_take_a_model_uri():
    uri = "models:/image_vae/latest"
    morph, training = morph_pipeline(), training_pipeline()
    evaluation = evaluation_pipeline()
    assert requested_model_uri(morph, {"morph": {"model_uri": None}}, ["morph"]) is None
    assert requested_model_uri(morph, {"morph": {"model_uri": uri}}, ["morph"]) == (
        "morph.model_uri",
        uri,
    )
    # Each section's URI is for its own pipeline: evaluation reads params:morph too.
    assert (
        requested_model_uri(morph, {"evaluation": {"model_uri": uri}}, ["morph"])
        is None
    )
    assert (
        requested_model_uri(evaluation, {"morph": {"model_uri": uri}}, ["evaluation"])
        is None
    )
    with pytest.raises(ModelUriError, match="name different models"):
        requested_model_uri(
            evaluation + morph,
            {"morph": {"model_uri": uri}, "evaluation": {"model_uri": f"{uri}x"}},
            ["evaluation", "morph"],
        )
    with pytest.raises(ModelUriError, match="this run trains vae_model itself"):
        requested_model_uri(
            training + evaluation,
            {"evaluation": {"model_uri": uri}, "training": {}},
            ["__default__"],
        )


def test_run_names_tell_runs_apart():
    params = {
        "training": {"beta": 1.0, "latent_dim": 2},
        "sweep": {"betas": [0.5, 2.0]},
    }
    assert run_name(["__default__"], params, "fashion-mnist", None) == (
        "default β=1 d=2 fashion-mnist"
    )
    assert run_name(["sweep"], params, "fashion-mnist[:2000]", None) == (
        "sweep β=0.5,2 d=2 fashion-mnist[:2000]"
    )
