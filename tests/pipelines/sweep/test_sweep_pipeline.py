"""Tests of the sweep's wiring, its nodes, its βs and the hooks around it."""

import logging

import pandas as pd
import pytest
from kedro.framework.project import configure_project, pipelines
from kedro.io import DataCatalog, MemoryDataset

from image_vae.pipelines.sweep import configured, create_pipeline
from image_vae.pipelines.sweep.configured import SweepBetasError, configured_betas
from image_vae.pipelines.sweep.nodes import (
    summarise_sweep,
    summary_row,
    training_params_for,
)
from image_vae.pipelines.sweep.pipeline import (
    beta_namespace,
    namespace_beta,
    pipeline_betas,
)
from image_vae.sweep_hooks import (
    SweepBetasHooks,
    SweepProgressHooks,
    sweep_run_hooks,
)

SHARED = {
    "class_names",
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


def test_registry_builds_the_sweep_from_the_configured_betas(
    registry, project_copy, monkeypatch
):
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    names = {n.namespace for n in registry["sweep"].nodes}
    assert names == {"sweep.beta_0_5", "sweep.beta_2", "sweep"}

    monkeypatch.delenv("KEDRO_ENV")
    assert configured_betas(project_copy) == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    (project_copy / "conf/local/parameters_sweep.yml").write_text(
        "sweep:\n  betas: [3, 1]\n"
    )
    assert configured_betas(project_copy) == [3.0, 1.0]


def test_the_sweep_for_the_same_betas_is_built_once():
    assert create_pipeline([0.5, 2.0]) is create_pipeline((0.5, 2))
    assert create_pipeline([0.5, 4.0]) is not create_pipeline([0.5, 2.0])


def test_the_configured_betas_are_read_once_per_configuration(
    project_copy, monkeypatch
):
    # kedro-dagster builds the registry's pipelines once per node it translates.
    reads = []
    read = configured._read_betas
    monkeypatch.setattr(configured, "_READ", {})
    monkeypatch.setattr(
        configured, "_read_betas", lambda *args: reads.append(args) or read(*args)
    )
    settings = project_copy / "conf/local/parameters_sweep.yml"
    settings.write_text("sweep:\n  betas: [3, 1]\n")
    for _ in range(3):
        assert configured_betas(project_copy) == [3.0, 1.0]
    assert len(reads) == 1

    settings.write_text("sweep:\n  betas: [4, 1]\n")  # the same size, at once
    assert configured_betas(project_copy) == [4.0, 1.0]
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    assert configured_betas(project_copy) == [0.5, 2.0]
    assert len(reads) == 3


def test_a_run_asking_for_other_betas_than_the_built_sweep_is_refused():
    sweep = create_pipeline([0.5, 2.0])
    catalog = DataCatalog(
        {"params:sweep": MemoryDataset({"betas": [0.5, 4.0], "epochs": None})}
    )

    with pytest.raises(SweepBetasError) as error:
        SweepBetasHooks().before_pipeline_run(sweep, catalog)

    assert "sweep.betas: this run asks for [0.5, 4.0]" in str(error.value)
    assert "built for [0.5, 2.0]" in str(error.value)
    assert "\n" not in str(error.value)
    # The same βs in another order, or one β's nodes alone, are fine.
    catalog["params:sweep"] = MemoryDataset({"betas": [2.0, 0.5], "epochs": None})
    SweepBetasHooks().before_pipeline_run(sweep, catalog)
    one_beta = sweep.only_nodes_with_namespaces(["sweep.beta_2"])
    SweepBetasHooks().before_pipeline_run(one_beta, catalog)
    assert pipeline_betas(one_beta) == {2.0}


def test_sweep_progress_names_each_model_and_the_time_left(caplog):
    caplog.set_level(logging.INFO, logger="image_vae.sweep_hooks")
    pipeline = create_pipeline(betas=[0.5, 2.0])
    hooks = SweepProgressHooks()
    nodes = {node.name: node for node in pipeline.nodes}

    hooks.before_pipeline_run(pipeline)
    for name in (
        "sweep.beta_0_5.train_vae_model",
        "sweep.beta_0_5.summarise_model",
        "sweep.beta_2.train_vae_model",
        "sweep.beta_2.summarise_model",
    ):
        hooks.before_node_run(nodes[name])
        hooks.after_node_run(nodes[name])

    ours = [r for r in caplog.records if r.name == "image_vae.sweep_hooks"]
    lines = [r.getMessage() for r in ours]
    assert lines[0] == "sweep: training model 1/2 (β = 0.5)"
    assert lines[1].startswith("sweep: 1/2 models done (β = 0.5) in ")
    assert lines[1].endswith("s left")
    assert lines[2] == "sweep: training model 2/2 (β = 2)"
    assert lines[3].startswith("sweep: 2/2 models done (β = 2) in ")
    assert "left" not in lines[3]


@pytest.fixture
def set_beta(tracking_store):
    """β = 2's first node, MLflow on the test's own store."""
    nodes = {node.name: node for node in create_pipeline(betas=[0.5, 2.0]).nodes}
    return nodes["sweep.beta_2.set_beta"]


def _lose_the_race_for_the_sweep_tag(monkeypatch, value_written: str) -> None:
    """The tag write of this process fails as a lost race does: another process
    inserted the tag (``value_written``) between this one's read and its insert."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    write = SqlAlchemyStore.set_tag

    def other_process_first(store, run_id, tag):
        if tag.key != "sweep_id":
            return write(store, run_id, tag)
        write(store, run_id, type(tag)(tag.key, value_written))
        raise MlflowException(
            "(sqlite3.IntegrityError) UNIQUE constraint failed: tags.key, tags.run_uuid"
        )

    monkeypatch.setattr(SqlAlchemyStore, "set_tag", other_process_first)


@pytest.mark.parametrize("lost_race", [False, True])
def test_a_betas_first_node_opens_its_run_and_tags_the_sweep_whoever_tags_first(
    lost_race, set_beta, monkeypatch
):
    """Under an orchestrator both βs' first nodes tag the sweep's run at once."""
    import mlflow

    close, open_ = sweep_run_hooks()
    with mlflow.start_run(experiment_id="0") as parent:
        sweep_id = parent.info.run_id
        if lost_race:
            _lose_the_race_for_the_sweep_tag(monkeypatch, sweep_id)
        open_.before_node_run(set_beta, {})
        child = mlflow.active_run().info.run_id
        close.after_pipeline_run()
    client = mlflow.MlflowClient()
    assert client.get_run(sweep_id).data.tags["sweep_id"] == sweep_id
    tags = client.get_run(child).data.tags
    assert tags["mlflow.parentRunId"] == sweep_id
    assert client.get_run(child).info.experiment_id == "0"
    assert (tags["sweep_id"], tags["sweep_beta"]) == (sweep_id, "2")


def test_a_failed_sweep_tag_that_another_process_did_not_write_is_an_error(
    set_beta, monkeypatch
):
    import mlflow
    from mlflow.exceptions import MlflowException

    _, open_ = sweep_run_hooks()
    with mlflow.start_run(experiment_id="0"):
        _lose_the_race_for_the_sweep_tag(monkeypatch, "another sweep")
        with pytest.raises(MlflowException, match="UNIQUE constraint"):
            open_.before_node_run(set_beta, {})
