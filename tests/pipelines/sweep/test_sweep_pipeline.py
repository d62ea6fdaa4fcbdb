"""Tests of the sweep's wiring, its nodes and the hook that fits it to a session."""

from types import SimpleNamespace

import pandas as pd
import pytest
from kedro.framework.project import configure_project, pipelines

from image_vae.pipelines.sweep import create_pipeline
from image_vae.pipelines.sweep.nodes import (
    summarise_sweep,
    summary_row,
    training_params_for,
)
from image_vae.pipelines.sweep.pipeline import beta_namespace, namespace_beta
from image_vae.sweep_hooks import SessionPipelinesHooks

SHARED = {
    "train_images",
    "train_labels",
    "test_images",
    "test_labels",
    "reference_classifier_model",
}


@pytest.mark.parametrize(
    ("beta", "name"), [(0.25, "beta_0_25"), (2, "beta_2"), (1e-5, "beta_1em05")]
)
def test_namespaces_name_each_beta_and_give_it_back(beta, name):
    assert beta_namespace(beta) == name
    assert namespace_beta(f"sweep.{name}") == beta


def test_one_namespaced_model_per_beta_sharing_data_and_judge():
    sweep = create_pipeline([0.5, 2.0])

    data = {name for name in sweep.inputs() if not name.startswith("params:")}
    assert data == SHARED
    assert "params:training" in sweep.inputs()
    trained = {n.name for n in sweep.nodes if n.name.endswith("train_vae_model")}
    assert trained == {"sweep.beta_0_5.train_vae_model", "sweep.beta_2.train_vae_model"}
    reports = {"sweep_summary", "rate_distortion_plot", "sweep_summary_table"}
    assert reports <= sweep.all_outputs()


def test_training_params_take_the_beta_and_the_sweep_epochs():
    training = {"beta": 1.0, "epochs": 20, "latent_dim": 2}

    assert training_params_for(training, {"epochs": None}, beta=4.0) == {
        "beta": 4.0,
        "epochs": 20,
        "latent_dim": 2,
    }
    assert training_params_for(training, {"epochs": 3}, beta=4.0)["epochs"] == 3


def test_summary_has_rate_distortion_and_every_metric_sorted_by_beta():
    test = {"kl_loss": 5.0, "negative_elbo": 250.0, "iwae_nll": 245.0}
    rows = [
        summary_row({"beta": b}, test, {"fid": f}) for b, f in ((2, 1.0), (0.5, 2.0))
    ]

    table = summarise_sweep(*rows)

    assert table["beta"].tolist() == [0.5, 2.0]
    assert table.loc[0, "rate"] == 5.0 and table.loc[0, "distortion"] == 245.0
    assert {"iwae_nll", "fid", "negative_elbo"} <= set(table.columns)
    assert isinstance(table, pd.DataFrame)


@pytest.fixture
def registry():
    """The project's pipelines, loaded afresh and reset afterwards."""
    configure_project("image_vae")
    yield pipelines
    configure_project("image_vae")


def _context(betas):
    return SimpleNamespace(params={"sweep": {"betas": betas}})


def test_session_hook_builds_the_sweep_from_the_session_betas(registry):
    SessionPipelinesHooks().after_context_created(_context([1.0, 3.0]))

    names = {n.namespace for n in registry["sweep"].nodes}
    assert names == {"sweep.beta_1", "sweep.beta_3", "sweep"}


def test_session_hook_leaves_invalid_betas_to_the_parameter_check(registry):
    SessionPipelinesHooks().after_context_created(_context([-1.0]))

    assert len({n.namespace for n in registry["sweep"].nodes}) == 7  # 6 β + summary
