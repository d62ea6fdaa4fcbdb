"""Tests of the reference classifier's nodes on a tiny slice of fake data."""

import numpy as np

from image_vae.pipelines.reference_classifier.nodes import (
    evaluate_reference_classifier,
    train_reference_classifier,
    train_reference_classifier_if_missing,
)

PARAMS = {
    "filters": [4],
    "dense_units": 8,
    "dropout": 0.0,
    "epochs": 1,
    "batch_size": 16,
    "learning_rate": 0.001,
    "seed": 0,
}


NAMES = [str(i) for i in range(10)]


def _data():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 8, 8, 1)).astype("float32")
    return images, rng.integers(0, 10, 40)


def test_trains_a_ten_class_model_and_reports_accuracy_and_confidence():
    images, labels = _data()

    model = train_reference_classifier(images, labels, PARAMS)
    metrics = evaluate_reference_classifier(model, images, labels)

    probabilities = model.predict(images, verbose=0)
    assert model.output_shape == (None, 10)
    assert metrics["test_accuracy"] == np.mean(probabilities.argmax(1) == labels)
    assert np.isclose(metrics["test_confidence"], probabilities.max(1).mean())


def test_a_saved_classifier_is_reused_and_a_missing_one_trained():
    images, labels = _data()
    saved = train_reference_classifier(images, labels, PARAMS)

    reused = train_reference_classifier_if_missing(saved, images, labels, NAMES, PARAMS)
    trained = train_reference_classifier_if_missing(None, images, labels, NAMES, PARAMS)

    assert reused is saved
    assert trained is not saved
    np.testing.assert_array_equal(  # same seed, same data: the same judge
        trained.predict(images, verbose=0), saved.predict(images, verbose=0)
    )


def test_a_saved_classifier_of_other_classes_is_replaced_by_one_of_these():
    images, labels = _data()
    saved = train_reference_classifier(images, labels, PARAMS)
    three = labels % 3

    replaced = train_reference_classifier_if_missing(
        saved, (images * 255).astype(np.uint8), three, ["a", "b", "c"], PARAMS
    )

    assert replaced is not saved and replaced.output_shape == (None, 3)


def test_unlabelled_images_get_no_judge():
    images, _ = _data()
    unlabelled = np.full(len(images), -1)

    placeholder = train_reference_classifier_if_missing(
        None, images, unlabelled, [], PARAMS
    )

    assert placeholder.name == "no_labels_placeholder"
    assert evaluate_reference_classifier(placeholder, images, unlabelled) == {}
