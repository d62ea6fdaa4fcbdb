"""Every rule of the parameter schema, checked in-process against the real defaults."""

import copy

import pytest
from kedro.config import OmegaConfigLoader

from conftest import PROJECT_ROOT
from image_vae.parameters import ParameterError, validate_parameters
from image_vae.vae.latent import FASHION_MNIST_CLASSES

# Raw Fashion-MNIST shapes, as the IDX headers announce them.
SIZES = {"train": (60000, 28, 28), "test": (10000, 28, 28)}

# (runtime params, the one line the user must see)
# Known before any image is read (the Fashion-MNIST source's catalog list).
CLASS_NAMES = list(FASHION_MNIST_CLASSES)
BAD_PARAMETERS = [
    ({"training": {"beta": -1}}, "training.beta: got -1; allowed: a number ≥ 0"),
    (
        {"training": {"latent_dim": 0}},
        "training.latent_dim: got 0; allowed: a number > 0",
    ),
    ({"training": {"epochs": 0}}, "training.epochs: got 0; allowed: a number > 0"),
    (
        {"training": {"batch_size": 0}},
        "training.batch_size: got 0; allowed: a number > 0",
    ),
    (
        {"evaluation": {"latent_path": {"steps": 1}}},
        "evaluation.latent_path.steps: got 1; allowed: a number ≥ 2",
    ),
    ({"morph": {"steps": 0}}, "morph.steps: got 0; allowed: a number ≥ 2"),
    (
        {"training": {"learning_rate": 0}},
        "training.learning_rate: got 0; allowed: a number > 0",
    ),
    (
        {"training": {"learning_rate_schedule": "linear"}},
        "training.learning_rate_schedule: got 'linear'; allowed: 'constant' or "
        "'cosine'",
    ),
    (
        {"training": {"ema_momentum": 1}},
        "training.ema_momentum: got 1; allowed: a number < 1",
    ),
    (
        {"training": {"adam_beta_2": 1}},
        "training.adam_beta_2: got 1; allowed: a number < 1",
    ),
    (
        {"training": {"reconstruction_loss": "l1"}},
        "training.reconstruction_loss: got 'l1'; allowed: 'bce' or 'mse'",
    ),
    ({"training": {"filters": []}}, "training.filters: got []; allowed: at least 1"),
    (
        {"training": {"filters": [32, -64]}},
        "training.filters.1: got -64; allowed: a number > 0",
    ),
    (
        {"data_processing": {"size": 30}},
        "data_processing.size: got 30; 30×30 does not fit the encoder's 3 stride-2 "
        "convolutions (training.filters), which need sides divisible by 8; nearest "
        "sizes: 24×24, 24×32, 32×24, 32×32",
    ),
    (
        {"data_processing": {"size": [64, 64, 3]}},
        "data_processing.size: got [64, 64, 3]; allowed: a side (64) or "
        "[height, width]",
    ),
    (
        {"data_processing": {"source": "folder"}},
        "data_processing.path: required with data_processing.source 'folder'; "
        "allowed: a folder of images",
    ),
    (
        {"data_processing": {"resize": "squash"}},
        "data_processing.resize: got 'squash'; allowed: 'pad', 'fit', 'crop' or "
        "'stretch'",
    ),
    (
        {"data_processing": {"subset": {"train": 70000}}},
        "data_processing.subset.train: got 70000; allowed: at most 60000",
    ),
    (
        {"evaluation": {"latent_path": {"start": [0.0, 1.0, 2.0]}}},
        "evaluation.latent_path.start: got [0.0, 1.0, 2.0]; allowed: a list of 2",
    ),
    (
        {"morph": {"target_class": "Trousers"}},
        "morph.target_class: got 'Trousers'; allowed: ",
    ),
    ({"training": {"betta": 4}}, "training.betta: got 4; unknown parameter"),
]


def _defaults() -> dict:
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="smoke",
        merge_strategy={"parameters": "soft"},
    )
    return loader["parameters"]


def _merge(base: dict, overrides: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_the_defaults_are_valid():
    params = validate_parameters(_defaults(), SIZES)
    assert params.training.latent_dim == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    BAD_PARAMETERS,
    ids=[m.split(":")[0] for _, m in BAD_PARAMETERS],
)
def test_each_bad_parameter_is_one_line_naming_it(overrides, message):
    with pytest.raises(ParameterError) as info:
        validate_parameters(
            _merge(_defaults(), overrides), SIZES, class_names=CLASS_NAMES
        )

    text = str(info.value)
    assert message in text
    assert "\n" not in text
