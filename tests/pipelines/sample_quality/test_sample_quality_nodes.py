"""Tests of the sample-quality nodes with a tiny VAE and a rigged judge."""

import keras
import numpy as np
import pytest

from image_vae.pipelines.sample_quality.nodes import (
    JudgeMismatchError,
    compute_morph_success,
    compute_sample_quality,
    merge_metrics,
)
from image_vae.vae import VAE
from image_vae.vae.classifier import build_classifier
from image_vae.vae.tables import latent_frame

SHAPE = (8, 8, 1)
MORPH = {"target_class": "Trouser", "length": 3.0, "steps": 20, "seed": 0}
NAMES = [f"class {i}" for i in range(10)]
NAMES[1] = "Trouser"


@pytest.fixture(scope="module")
def model() -> VAE:
    keras.utils.set_random_seed(0)
    return VAE(SHAPE, 2, filters=(4, 8), seed=0)


def _judge(always: int) -> keras.Model:
    """A classifier that calls every image class ``always``."""
    classifier = build_classifier(SHAPE, 10, filters=(4,), dense_units=8)
    kernel, bias = classifier.get_layer("probabilities").get_weights()
    bias[always] = 50.0
    classifier.get_layer("probabilities").set_weights([np.zeros_like(kernel), bias])
    return classifier


def _codes(n: int = 60):
    """A latent table whose class means differ, class k around (k, k)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    means = rng.normal(size=(n, 2)) + labels[:, None]
    return latent_frame(means, np.zeros_like(means), labels, NAMES)


def test_morph_success_is_the_share_of_end_points_judged_as_the_target(model):
    codes = _codes()

    hit = compute_morph_success(model, _judge(1), codes, NAMES, MORPH, 10)
    miss = compute_morph_success(model, _judge(3), codes, NAMES, MORPH, 10)

    assert hit == {"morph_success_rate": 1.0}
    assert miss == {"morph_success_rate": 0.0}


def test_sample_quality_reports_fid_and_confidences(model):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, *SHAPE)).astype("float32")
    labels = np.full(40, 1)
    params = {"n_samples": 30, "seed": 0}

    metrics = compute_sample_quality(model, _judge(1), images, labels, NAMES, params)

    assert set(metrics) == {
        "fid",
        "confidence",
        "real_confidence",
        "classifier_accuracy",
    }
    assert 0 < metrics["fid"] < np.inf  # samples of an untrained model vs noise
    assert metrics["confidence"] == pytest.approx(1.0)
    assert metrics["classifier_accuracy"] == 1.0


def test_merge_keeps_every_metric():
    assert merge_metrics({"a": 1.0}, {"b": 2.0}) == {"a": 1.0, "b": 2.0}


def test_unlabelled_images_have_no_sample_quality(model, caplog):
    caplog.set_level("INFO")
    images = np.zeros((4, *SHAPE), np.uint8)
    params = {"n_samples": 4, "seed": 0}
    assert compute_sample_quality(model, None, images, np.full(4, -1), [], params) == {}
    assert compute_morph_success(model, None, _codes(), [], MORPH, 10) == {}
    assert "sample quality: left out" in caplog.text
    assert "morph success rate: left out" in caplog.text


def test_a_judge_of_other_images_is_refused(model):
    images = np.zeros((4, *SHAPE), np.uint8)
    params = {"n_samples": 4, "seed": 0}
    with pytest.raises(
        JudgeMismatchError,
        match=r"takes \(8, 8, 1\) images and 10 "
        r"classes, the data has \(8, 8, 1\) and 3",
    ):
        compute_sample_quality(model, _judge(1), images, np.zeros(4), NAMES[:3], params)
