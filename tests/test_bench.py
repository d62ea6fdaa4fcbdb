"""Which sides the training benchmark runs, from the project's defaults."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "train_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("train_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _sides(
    bench, defaults: dict, *extra: str, auto: str | None = None
) -> dict[str, dict]:
    args = bench._parse([*(f"--side={side}" for side in extra)])
    sides = bench.make_sides(args, defaults, Path("/nowhere"), auto)
    return {side.name: side.spec["params"] for side in sides}


DEFAULTS = {
    "latent_dim": 2,
    "batch_size": 100,
    "learning_rate": 0.004,
    "learning_rate_schedule": "constant",
    "ema_momentum": 0.98,
    "adam_beta_2": 0.99,
    "precision": "float32",
}


def test_throughput_sides_share_the_reference_hyperparameters(bench):
    # On a CPU with bfloat16 instructions: the other precision is measured too.
    sides = _sides(bench, DEFAULTS, auto="mixed_bfloat16")

    assert list(sides) == [
        "reference",
        "project",
        "project (defaults)",
        "project (bfloat16)",
    ]
    for name in ("reference", "project", "project (bfloat16)"):
        assert sides[name]["batch_size"] == 100
        assert sides[name]["learning_rate"] == 1e-3
        assert sides[name]["learning_rate_schedule"] == "constant"
        assert sides[name]["ema_momentum"] is None
        assert sides[name]["adam_beta_2"] == 0.999  # Keras' Adam default
    assert sides["project"]["precision"] == "float32"
    assert sides["project (bfloat16)"]["precision"] == "mixed_bfloat16"
    assert sides["project (defaults)"]["learning_rate"] == 0.004
    assert sides["project (defaults)"]["ema_momentum"] == 0.98
    assert sides["project (defaults)"]["adam_beta_2"] == 0.99


def test_bfloat16_side_only_where_the_cpu_has_bfloat16(bench):
    assert list(_sides(bench, DEFAULTS, auto="float32")) == [
        "reference",
        "project",
        "project (defaults)",
    ]
    assert "project (bfloat16)" not in _sides(bench, DEFAULTS)

    sides = _sides(
        bench, DEFAULTS, "bf16:precision=mixed_bfloat16", auto="mixed_bfloat16"
    )

    assert "project (bfloat16)" not in sides
    assert sides["bf16"]["precision"] == "mixed_bfloat16"


def test_float32_side_when_the_default_is_bfloat16_or_auto_is(bench):
    auto = {**DEFAULTS, "precision": "auto"}
    assert "project (float32)" not in _sides(bench, auto, auto="float32")
    assert "project (float32)" in _sides(bench, auto, auto="mixed_bfloat16")
    assert "project (float32)" in _sides(
        bench, {**DEFAULTS, "precision": "mixed_bfloat16"}
    )

    sides = _sides(bench, auto, "fp32:precision=float32", auto="mixed_bfloat16")

    assert "project (float32)" not in sides
    assert sides["fp32"]["precision"] == "float32"


def test_whole_run_is_compared_with_twenty_reference_epochs(bench):
    report = {
        "throughput": {"reference": {"seconds_per_60k_epoch": 40.0}},
        "full_run": {
            "median_s": 200.0,
            "max_rss_mb": 2048.0,
            "test_negative_elbo": 259.0,
            "node_seconds": {"train_vae_model": 150.0, "encode_test_set": 2.0},
        },
        "time_to_quality": {"target_test_negative_elbo": 265.0, "reference_epochs": 5},
        "morph": {"median_s": 12.0},
        "import_tensorflow": {"median_s": 8.0},
        "reference_20_nats": 261.15,
    }
    report["whole_run"] = bench.whole_run_figures(report)

    assert report["whole_run"]["reference_20_epochs_s"] == 800.0
    assert report["whole_run"]["ratio"] == 0.25
    lines = bench.whole_run_lines(report)
    assert lines[0].startswith("morph / `import tensorflow`: 1.50")
    assert "0.2500 (200.0 s / 800.0 s" in lines[1]  # 0.2002 must not read as 0.20
    assert (
        "259.00 nats, the reference's 265.00 after 5 epochs and 261.15 after 20"
        in (lines[1])
    )
    assert report["whole_run"]["rest_fraction"] == 0.25
    assert "50 s of 200 s (25 %); training 150 s" in lines[2]


def test_node_seconds_are_read_from_the_run_log(bench):
    log = (
        "[11/30/26 15:00:01] INFO  node train_vae_model: 212.5s   hooks.py:43\n"
        "INFO  Completed 5 out of 30 tasks\n"
        "INFO  node encode_test_set: 3.0s\n"
    )

    assert bench.node_seconds(log) == {"train_vae_model": 212.5, "encode_test_set": 3.0}


def test_the_reference_trains_on_float_images_in_the_unit_interval():
    spec = importlib.util.spec_from_file_location(
        "bench_worker", BENCH.parent / "worker.py"
    )
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    pixels = np.array([[[[0]], [[51]], [[255]]]], dtype=np.uint8)

    images = worker.notebook_images(pixels)

    assert images.dtype == np.float32
    assert images.ravel().tolist() == pytest.approx([0.0, 0.2, 1.0])
