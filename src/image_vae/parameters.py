"""Typed schema of every parameter (``conf/*/parameters_*.yml``), checked before work.

Kedro-free: pydantic models with ``extra="forbid"`` (a typo such as
``training.betta`` is an error), bounds and ``Literal`` choices, plus the checks
that span sections (latent path length vs latent dim, padding vs conv layers).
``validate_parameters`` turns every violation into one line naming the dotted
parameter, the value given and what is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
)

from image_vae.errors import UserFacingError
from image_vae.parameter_limits import limit_problems, path_problems
from image_vae.vae.latent import resolve_class
from image_vae.vae.preprocessing import invalid_size_message

# NumPy and Keras take seeds in [0, 2³²).
Seed = Annotated[int, Field(ge=0, lt=2**32)]


class ParameterError(UserFacingError):
    """One or more parameters are invalid; the message has one line per problem."""


class _Section(BaseModel):
    # strict: no bool -> int, no 2.5 -> int, no "3" -> 3 (an int is a float, though);
    # allow_inf_nan: no inf/nan where a number is wanted.
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False
    )


class SubsetParams(_Section):
    train: PositiveInt | None = None
    test: PositiveInt | None = None


class DataProcessingParams(_Section):
    source: Literal["fashion_mnist", "folder", "idx"] = "fashion_mnist"
    path: str | None = None
    labels_path: str | None = None
    test_path: str | None = None
    test_labels_path: str | None = None
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    seed: int = 0
    class_names: list[str] | None = None
    size: PositiveInt | list[PositiveInt] | None = None
    max_side: PositiveInt = 64
    resize: Literal["pad", "fit", "crop", "stretch"] = "pad"
    channels: Literal["auto", "grey", "rgb"] = "auto"
    subset: SubsetParams = SubsetParams()

    @field_validator("size")
    @classmethod
    def _two_sides(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, list) and len(value) != 2:
            raise ValueError("a side (64) or [height, width]")
        return value


class TrainingParams(_Section):
    latent_dim: PositiveInt = 2
    filters: list[PositiveInt] = Field(default=[32, 64, 128], min_length=1)
    beta: float = Field(default=1.0, ge=0)
    reconstruction_loss: Literal["bce", "mse"] = "bce"
    epochs: PositiveInt = 4
    batch_size: PositiveInt = 100
    # Test images validated after each epoch, evenly spaced (null: all).
    validation_images: PositiveInt | None = 2000
    learning_rate: PositiveFloat = 4e-3
    learning_rate_schedule: Literal["constant", "cosine"] = "constant"
    ema_momentum: float | None = Field(default=0.98, ge=0, lt=1)
    adam_beta_2: float = Field(default=0.99, gt=0, lt=1)
    seed: Seed = 42
    checkpoint_dir: str = "data/06_models/checkpoints"
    precision: Literal["auto", "float32", "mixed_bfloat16"] = "float32"
    # Several devices for one model: "mirrored" is tf.distribute.MirroredStrategy
    # over `devices` (null: every local GPU); batch_size is the global batch.
    distribution: Literal["none", "mirrored"] = "none"
    devices: list[str] | None = Field(default=None, min_length=1)


class LatentPathParams(_Section):
    start: list[float] = Field(min_length=1)
    end: list[float] = Field(min_length=1)
    steps: int = Field(default=20, ge=2)


class ExplorerParams(_Section):
    grid_size: int = Field(default=48, ge=2, le=128)
    walk_steps: int = Field(default=11, ge=2, le=101)


class EvaluationParams(_Section):
    n_reconstructions: PositiveInt = 6
    n_prior_samples: PositiveInt = 16
    manifold_size: int = Field(default=15, ge=2)
    latent_path: LatentPathParams = LatentPathParams(start=[0.8, 0.5], end=[2.5, 1.5])
    seed: Seed = 0
    iwae_samples: PositiveInt = 64
    iwae_images: PositiveInt | None = 500
    knn_k: PositiveInt = 5
    explorer: ExplorerParams = ExplorerParams()
    model_uri: str | None = None


class MorphParams(_Section):
    # A name or index among the data's class names (checked against them);
    # null: the second class, index 1 (Trouser for Fashion-MNIST).
    target_class: str | int | None = None
    length: PositiveFloat = 3.0
    steps: int = Field(default=20, ge=2)
    seed: Seed = 0
    model_uri: str | None = None


class ReferenceClassifierParams(_Section):
    filters: list[PositiveInt] = Field(default=[16, 32], min_length=1)
    dense_units: PositiveInt = 128
    dropout: float = Field(default=0.3, ge=0, lt=1)
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 3e-3
    seed: Seed = 0


class SampleQualityParams(_Section):
    n_samples: int = Field(default=10000, ge=2)
    morph_starts: PositiveInt = 100
    seed: Seed = 0


class SweepParams(_Section):
    betas: list[NonNegativeFloat] = Field(
        default=[0.25, 0.5, 1.0, 2.0, 4.0, 8.0], min_length=1
    )
    epochs: PositiveInt | None = None

    @field_validator("betas")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError("distinct values (each β is one model)")
        return value


class ProjectParams(_Section):
    """Every top-level parameter section; sections absent from config are skipped."""

    data_processing: DataProcessingParams | None = None
    training: TrainingParams | None = None
    evaluation: EvaluationParams | None = None
    morph: MorphParams | None = None
    reference_classifier: ReferenceClassifierParams | None = None
    sample_quality: SampleQualityParams | None = None
    sweep: SweepParams | None = None


_TYPE_WORDS = {
    "int_type": "a whole number",
    "float_type": "a number",
    "finite_number": "a finite number (not inf or nan)",
    "string_type": "a string",
    "list_type": "a list",
    "bool_type": "true or false",
    "model_type": "a mapping of parameters",
}


def _allowed(error: dict[str, Any]) -> str:  # noqa: PLR0911  one per kind
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown parameter (check the spelling)"
    if kind == "missing":
        return "required parameter is missing"
    if kind == "literal_error":
        return f"allowed: {ctx.get('expected')}"
    if kind in _TYPE_WORDS:
        return f"allowed: {_TYPE_WORDS[kind]}"
    for bound, word in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
        if bound in ctx:
            return f"allowed: a number {word} {ctx[bound]}"
    if "min_length" in ctx:
        return f"allowed: at least {ctx['min_length']} item(s)"
    return f"allowed: {error['msg'].removeprefix('Value error, ')}"


def _format(error: dict[str, Any]) -> str:
    # Union members (`str | int`) add their type to the location: not a parameter.
    loc = [p for p in error["loc"] if p not in {"int", "str", "float", "none"}]
    name = ".".join(str(part) for part in loc)
    if error["type"] == "missing":
        return f"{name}: {_allowed(error)}"
    return f"{name}: got {error['input']!r}; {_allowed(error)}"


def _cross_checks(
    params: ProjectParams,
    sizes: dict[str, tuple[int, ...]],
    sections: set[str] | None,
    class_names: list[str] | None = None,
) -> list[str]:
    problems = []

    def used(name: str) -> Any:
        # A check spanning sections applies only when the run uses them all.
        return getattr(params, name) if sections is None or name in sections else None

    data, training = used("data_processing"), used("training")
    evaluation = used("evaluation")
    if data and data.source != "fashion_mnist" and not data.path:
        problems.append(
            f"data_processing.path: required with data_processing.source "
            f"{data.source!r}; allowed: "
            + ("a folder of images" if data.source == "folder" else "an IDX file")
        )
    if data and training and data.size is not None:
        size = [data.size] * 2 if isinstance(data.size, int) else data.size
        why = invalid_size_message(size, len(training.filters))
        if why:
            problems.append(f"data_processing.size: got {data.size}; {why}")
    morph = used("morph")
    if morph and morph.target_class is not None and class_names:
        try:
            resolve_class(morph.target_class, class_names)
        except ValueError as error:
            problems.append(
                f"morph.target_class: got {morph.target_class!r}; allowed: {error}"
            )
    if data and data.source == "fashion_mnist":
        for split in ("train", "test"):
            wanted = getattr(data.subset, split)
            if wanted is not None and split in sizes and wanted > sizes[split][0]:
                problems.append(
                    f"data_processing.subset.{split}: got {wanted}; allowed: at most "
                    f"{sizes[split][0]} (the {split} set's size) or null for all"
                )
    problems += _data_size_checks(params, sizes, used)
    if training and evaluation:
        for end in ("start", "end"):
            point = getattr(evaluation.latent_path, end)
            if len(point) != training.latent_dim:
                problems.append(
                    f"evaluation.latent_path.{end}: got {point}; allowed: a list of "
                    f"{training.latent_dim} coordinates (training.latent_dim)"
                )
    return problems


def _data_size_checks(
    params: ProjectParams, sizes: dict[str, tuple[int, ...]], used: Any
) -> list[str]:
    """Counts that must not exceed the images there are (after ``subset``)."""
    subset = params.data_processing.subset if params.data_processing else None
    n = {
        split: (getattr(subset, split, None) if subset else None) or sizes[split][0]
        for split in ("train", "test")
        if split in sizes
    }
    evaluation, problems = used("evaluation"), []
    checks = []
    if evaluation:
        checks += [
            ("evaluation.knn_k", evaluation.knn_k, "train", "neighbours among"),
            ("evaluation.n_reconstructions", evaluation.n_reconstructions, "test", ""),
        ]
    for name, value, split, what in checks:
        if split in n and value > n[split]:
            problems.append(
                f"{name}: got {value}; allowed: at most {n[split]} ({what or 'the'}"
                f"{' the' if what else ''} {n[split]} {split} images in this run)"
            )
    return problems


def validate_parameters(
    raw: dict[str, Any],
    sizes: dict[str, tuple[int, ...]] | None = None,
    sections: set[str] | None = None,
    class_names: list[str] | None = None,
) -> ProjectParams:
    """Validates the whole parameter tree.

    Args:
        raw: The ``parameters`` dict Kedro loaded (after ``--params`` overrides).
        sizes: Raw data shapes by split (``{"train": (60000, 28, 28)}``) when known,
            for the checks that need them (subset size, padding).
        sections: Top-level sections the run's nodes read; checks that span
            sections skip the others (``None``: all). Every section is still
            validated on its own, so a typo anywhere is an error.
        class_names: The data's class names when known before reading it, for
            ``morph.target_class``.

    Returns:
        The typed parameters.

    Raises:
        ParameterError: One line per violation.
    """
    try:
        params = ProjectParams.model_validate(raw)
    except ValidationError as error:
        lines: dict[str, str] = {}
        for line in (_format(e) for e in error.errors(include_url=False)):
            # A union (`str | int`) fails once per member: one line, both allowed.
            head, _, allowed = line.partition("; allowed: ")
            if head in lines and allowed:
                lines[head] += f" or {allowed}"
            else:
                lines[head] = line
        raise ParameterError("; ".join(lines.values())) from None
    sizes = sizes or {}
    problems = _cross_checks(params, sizes, sections, class_names)
    problems += limit_problems(params, sizes) + path_problems(params)
    if problems:
        raise ParameterError("; ".join(problems))
    return params
