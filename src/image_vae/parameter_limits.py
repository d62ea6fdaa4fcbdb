"""Upper bounds on sizes, and path parameters, checked before any work starts.

A parameter can be valid in type and sign and still be absurd: a latent size of
10⁹ or a path of 10⁸ images would allocate gigabytes, or run for hours, and
only then fail. Each limit here says why it exists, with the estimate behind it,
so the one-line error tells the user what to change. Kedro-free, like the
schema that calls it (``image_vae.parameters``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

_GB = 1024**3
_FLOAT_BYTES = 4
# Measured ~5-15 ms per step of the default model on a laptop CPU; the bound
# below is about a day of steps at that speed, far beyond any useful run.
_MAX_TRAINING_STEPS = 10_000_000
_MS_PER_STEP = 10
# A figure with one panel per image: matplotlib needs ~0.1 s per panel.
_MAX_PANELS = 200
# A tiled figure of decoded images: 100 × 100 images of 32 × 32 pixels.
_MAX_MANIFOLD_SIDE = 100
# The IWAE bound decodes one image's K samples in one pass (~0.25 MB each).
_IWAE_BYTES_PER_DECODE = 250_000
_MAX_SWEEP_MODELS = 32
_MAX_FILTERS = 1024
_MAX_DENSE_UNITS = 16_384


def memory_bytes() -> int:
    """Physical memory of this machine in bytes (8 GB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * _GB


def _gb(n_bytes: float) -> str:
    return f"{n_bytes / _GB:.1f} GB"


def _image_side(params: Any, sizes: dict[str, tuple[int, ...]]) -> tuple[int, int]:
    """(side, channels) of a model input image: data_processing.size, or the raw
    side rounded up to what the encoder takes (28 → 32 for Fashion-MNIST)."""
    data = params.data_processing
    channels = 3 if data and data.channels == "rgb" else 1
    if data and data.size is not None:
        size = data.size
        return (max(size) if isinstance(size, list) else size), channels
    raw = sizes.get("train", (0, 28, 28))[1]
    return -(-raw // 8) * 8, channels


def _train_size(params: Any, sizes: dict[str, tuple[int, ...]]) -> int | None:
    data = params.data_processing
    wanted = data.subset.train if data else None
    known = sizes["train"][0] if "train" in sizes else None
    return wanted or known


def _training_step_bytes(training: Any, side: int, channels: int) -> float:
    """Rough bytes of one training step: activations (kept for the backward pass,
    their gradients, encoder and mirrored decoder) for a batch, plus weights with
    their gradients, Adam's two moments and the averaged copy."""
    per_image, weights, previous, cur = 0.0, 0.0, channels, side
    for filters in training.filters:
        cur = max(1, math.ceil(cur / 2))
        per_image += 2 * 2 * cur * cur * filters  # encoder + decoder, value + grad
        weights += 2 * 9 * previous * filters
        previous = filters
    flat = cur * cur * previous
    weights += 3 * flat * training.latent_dim  # z_mean, z_log_var, decoder input
    per_image += 4 * side * side * channels
    return _FLOAT_BYTES * (training.batch_size * per_image + 5 * weights)


def _training_problems(
    params: Any, sizes: dict[str, tuple[int, ...]], memory: int
) -> list[str]:
    training, problems = params.training, []
    side, channels = _image_side(params, sizes)
    pixels = side * side * channels
    if training.latent_dim > pixels:
        problems.append(
            f"training.latent_dim: got {training.latent_dim}; allowed: at most "
            f"{pixels} (the values of one {side}×{side}×{channels} image: a larger "
            "code cannot hold more)"
        )
        return problems
    for i, filters in enumerate(training.filters):
        if filters > _MAX_FILTERS:
            problems.append(
                f"training.filters.{i}: got {filters}; allowed: at most "
                f"{_MAX_FILTERS} (its 3×3 kernels alone hold 9·{filters}² weights)"
            )
    if problems:
        return problems
    needed = _training_step_bytes(training, side, channels)
    if needed > memory / 2:
        problems.append(
            f"training.batch_size: got {training.batch_size}; one training step "
            f"with filters {training.filters} and latent_dim {training.latent_dim} "
            f"needs ≈ {_gb(needed)}, more than half of this machine's "
            f"{_gb(memory)}; allowed: a smaller batch_size, filters or latent_dim"
        )
    return problems


def _steps_problems(params: Any, sizes: dict[str, tuple[int, ...]]) -> list[str]:
    """Epochs × steps per epoch of every model a run trains, against the limit."""
    n_train = _train_size(params, sizes)
    if not n_train:
        return []
    trained = []
    if params.training:
        trained.append(("training", params.training.epochs, params.training))
        if params.sweep and params.sweep.epochs:
            trained.append(("sweep", params.sweep.epochs, params.training))
    if params.reference_classifier:
        classifier = params.reference_classifier
        trained.append(("reference_classifier", classifier.epochs, classifier))
    problems = []
    for section, epochs, config in trained:
        steps = epochs * math.ceil(n_train / config.batch_size)
        if steps > _MAX_TRAINING_STEPS:
            hours = steps * _MS_PER_STEP / 3_600_000
            problems.append(
                f"{section}.epochs: got {epochs}; {epochs} epochs × ⌈{n_train} "
                f"images / batch_size {config.batch_size}⌉ = {steps:,} steps (≈ "
                f"{hours:,.0f} h at ~{_MS_PER_STEP} ms per step); allowed: at most "
                f"{_MAX_TRAINING_STEPS:,} steps"
            )
    return problems


def _evaluation_problems(params: Any, memory: int) -> list[str]:
    evaluation, problems = params.evaluation, []
    panels = {
        "evaluation.n_reconstructions": evaluation.n_reconstructions,
        "evaluation.latent_path.steps": evaluation.latent_path.steps,
    }
    if params.morph:
        panels["morph.steps"] = params.morph.steps
    problems += [
        f"{name}: got {value}; allowed: at most {_MAX_PANELS} (one figure panel "
        f"each, ~0.1 s apiece to draw)"
        for name, value in panels.items()
        if value > _MAX_PANELS
    ]
    if evaluation.manifold_size > _MAX_MANIFOLD_SIDE:
        problems.append(
            f"evaluation.manifold_size: got {evaluation.manifold_size}; allowed: at "
            f"most {_MAX_MANIFOLD_SIDE} ({evaluation.manifold_size}² images decoded "
            "into one figure)"
        )
    if evaluation.n_prior_samples > _MAX_MANIFOLD_SIDE**2:
        problems.append(
            f"evaluation.n_prior_samples: got {evaluation.n_prior_samples}; allowed: "
            f"at most {_MAX_MANIFOLD_SIDE**2} (all drawn into one figure)"
        )
    iwae_bytes = evaluation.iwae_samples * _IWAE_BYTES_PER_DECODE
    if iwae_bytes > memory / 4:
        most = int(memory / 4 / _IWAE_BYTES_PER_DECODE)
        problems.append(
            f"evaluation.iwae_samples: got {evaluation.iwae_samples}; the K samples "
            f"of one image are decoded in one pass, ≈ {_gb(iwae_bytes)}; allowed: at "
            f"most {most} on this machine ({_gb(memory)})"
        )
    return problems


def _sample_problems(params: Any, side: int, memory: int) -> list[str]:
    problems = []
    quality = params.sample_quality
    if quality:
        needed = quality.n_samples * side * side * _FLOAT_BYTES * 4
        if needed > memory / 4:
            problems.append(
                f"sample_quality.n_samples: got {quality.n_samples}; the decoded "
                f"samples and their features need ≈ {_gb(needed)}; allowed: at most "
                f"{int(quality.n_samples * memory / 4 / needed)} on this machine"
            )
        if quality.morph_starts > 10_000:
            problems.append(
                f"sample_quality.morph_starts: got {quality.morph_starts}; allowed: "
                "at most 10000 (each start is one full morph)"
            )
    if params.sweep and len(params.sweep.betas) > _MAX_SWEEP_MODELS:
        problems.append(
            f"sweep.betas: got {len(params.sweep.betas)} values; allowed: at most "
            f"{_MAX_SWEEP_MODELS} (each β trains and evaluates one model)"
        )
    classifier = params.reference_classifier
    if classifier:
        problems += [
            f"reference_classifier.filters.{i}: got {f}; allowed: at most "
            f"{_MAX_FILTERS}"
            for i, f in enumerate(classifier.filters)
            if f > _MAX_FILTERS
        ]
        if classifier.dense_units > _MAX_DENSE_UNITS:
            problems.append(
                f"reference_classifier.dense_units: got {classifier.dense_units}; "
                f"allowed: at most {_MAX_DENSE_UNITS}"
            )
    return problems


def limit_problems(
    params: Any, sizes: dict[str, tuple[int, ...]], memory: int | None = None
) -> list[str]:
    """One line per size beyond its limit (``params``: a ``ProjectParams``)."""
    memory = memory or memory_bytes()
    side, _ = _image_side(params, sizes)
    problems = []
    if params.training:
        problems += _training_problems(params, sizes, memory)
    problems += _steps_problems(params, sizes)
    if params.evaluation:
        problems += _evaluation_problems(params, memory)
    problems += _sample_problems(params, side, memory)
    return problems


def _folder_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot be (or become) a writable folder, or ``None``."""
    path = Path(value)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                what = "is" if part == path else f"is inside {str(part)!r}, which is"
                return (
                    f"{name}: got {value!r}, which {what} a file; allowed: a folder "
                    "(created when missing)"
                )
            if not os.access(part, os.W_OK | os.X_OK):
                return (
                    f"{name}: got {value!r}; {str(part)!r} is not writable; allowed: "
                    "a folder you can write to"
                )
            return None
    return None


def path_problems(params: Any) -> list[str]:
    """Folder parameters that point at a file, or where nothing can be written."""
    if not params.training:
        return []
    problem = _folder_problem("training.checkpoint_dir", params.training.checkpoint_dir)
    return [problem] if problem else []
