"""Tests for the figure functions: structure of the figures, and that they render."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from image_vae.vae.latent import FASHION_MNIST_CLASSES
from image_vae.vae.plotting import (
    LatentScatter,
    plot_latent_manifold,
    plot_latent_path,
    plot_latent_scatter,
    plot_prior_samples,
    plot_reconstructions,
    plot_training_history,
)

RNG = np.random.default_rng(0)


def _images(n, side=8, channel=True):
    images = RNG.uniform(0, 1, (n, side, side))
    return images[..., None] if channel else images


def _history(epochs, validation=True):
    history = pd.DataFrame({"epoch": np.arange(1, epochs + 1)})
    for column, base in [
        ("loss", 300.0),
        ("reconstruction_loss", 280.0),
        ("kl_loss", 20.0),
    ]:
        history[column] = base / history["epoch"]
        if validation:
            history[f"val_{column}"] = 1.1 * history[column]
    return history


@pytest.fixture
def scatter():
    labels = np.arange(60) % 10
    points = RNG.normal(size=(60, 2)) + labels[:, None]
    return LatentScatter(points, labels, FASHION_MNIST_CLASSES, ("z[0]", "z[1]"))


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def _legend_texts(fig):
    """Entries of all figure, subfigure and axes legends."""
    legends = [*fig.legends, *(lg for sub in fig.subfigs for lg in sub.legends)]
    legends += [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _suptitle(fig):
    return fig.get_suptitle()


def test_training_history_has_three_labelled_panels():
    fig = plot_training_history(_history(5))

    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == [
        "Total loss",
        "Reconstruction",
        "KL divergence",
    ]
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        assert ax.get_ylabel() == "nats per image"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "training",
            "validation",
        ]
        assert len(ax.lines[0].get_xdata()) == 5


def test_training_history_shows_a_single_epoch():
    fig = plot_training_history(_history(1))

    for ax in fig.axes:
        low, high = ax.get_xlim()
        assert low < 1 < high
        assert all(line.get_marker() not in ("", "None", None) for line in ax.lines)
        # Integer epochs only, even on a one-point axis.
        ticks = ax.get_xticks()
        np.testing.assert_array_equal(ticks, np.round(ticks))


def test_training_history_without_validation_and_missing_columns():
    fig = plot_training_history(_history(3, validation=False))
    assert _legend_texts(fig) == ["training"] * 3
    with pytest.raises(ValueError, match="kl_loss"):
        plot_training_history(_history(3).drop(columns="kl_loss"))


@pytest.mark.parametrize("channel", [True, False])
def test_reconstructions_pair_originals_with_reconstructions(channel):
    labels = np.array([1, 9, 0])

    fig = plot_reconstructions(
        _images(3, channel=channel),
        _images(3, channel=channel),
        labels,
        FASHION_MNIST_CLASSES,
    )

    axes = _image_axes(fig)
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:3]] == [
        "Trouser",
        "Ankle boot",
        "T-shirt/top",
    ]
    assert [ax.get_title() for ax in axes[3:]] == ["", "", ""]
    assert axes[0].get_ylabel() == "original"
    assert axes[3].get_ylabel() == "reconstruction"
    image = axes[0].images[0]
    assert image.get_cmap().name == "gray"
    assert image.get_clim() == (0, 1)


def test_reconstructions_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="originals"):
        plot_reconstructions(
            _images(3), _images(2), np.zeros(3, int), FASHION_MNIST_CLASSES
        )


def test_latent_scatter_has_a_class_legend(scatter):
    fig = plot_latent_scatter(scatter, title="Encoded test images")

    (ax,) = fig.axes
    assert ax.get_title() == "Encoded test images"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[0]", "z[1]")
    assert _legend_texts(fig) == list(FASHION_MNIST_CLASSES)
    assert len(ax.collections[0].get_offsets()) == 60


def test_latent_scatter_validates_its_data():
    with pytest.raises(ValueError, match="labels from 0 to 3"):
        LatentScatter(np.zeros((2, 2)), np.array([0, 3]), ("a", "b"), ("x", "y"))
    with pytest.raises(ValueError, match=r"points_2d.shape=\(2, 3\)"):
        LatentScatter(np.zeros((2, 3)), np.array([0, 1]), ("a", "b"), ("x", "y"))


def test_prior_samples_number_images_and_points(scatter):
    points = RNG.normal(size=(5, 2))

    fig = plot_prior_samples(_images(5), points, scatter)

    image_axes = _image_axes(fig)
    assert [ax.get_title() for ax in image_axes] == ["1", "2", "3", "4", "5"]
    (map_ax,) = [ax for ax in fig.axes if ax.collections]
    assert [text.get_text() for text in map_ax.texts] == ["1", "2", "3", "4", "5"]
    np.testing.assert_allclose(map_ax.collections[-1].get_offsets(), points)
    assert _legend_texts(fig) == ["prior sample", *FASHION_MNIST_CLASSES]
    assert _suptitle(fig) == "Samples from the prior"
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        plot_prior_samples(_images(5), points[:4], scatter)


def test_manifold_puts_largest_y_on_top_and_labels_ticks():
    coords_x = np.array([-1.0, 0.0, 1.0])
    coords_y = np.array([-0.5, 0.5])  # ascending: row 0 must end up at the bottom
    # Each tile's value encodes its index, to follow it into the mosaic.
    images = np.stack([np.full((4, 4), i / 10) for i in range(6)])

    fig = plot_latent_manifold(images, coords_x, coords_y, ("PC 1", "PC 2"))

    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (8, 12)
    # Top-left tile: largest y (row 1), smallest x (column 0), i.e. image 3.
    np.testing.assert_allclose(mosaic[0, 0], 0.3)
    np.testing.assert_allclose(mosaic[-1, -1], 0.2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-1.00", "0.00", "1.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.50", "-0.50"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC 1", "PC 2")
    with pytest.raises(ValueError, match="3 \\* 2 images"):
        plot_latent_manifold(images[:5], coords_x, coords_y, ("x", "y"))


def test_manifold_thins_crowded_tick_labels_keeping_both_ends():
    coords = np.linspace(-2, 2, 25)

    fig = plot_latent_manifold(_images(625, side=2), coords, coords[::-1], ("x", "y"))

    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == 25
    assert labels[0] == "-2.00" and labels[-1] == "2.00"
    assert 2 <= sum(bool(label) for label in labels) <= 13


@pytest.mark.parametrize(
    ("dim", "first_title"), [(2, "(0.00, 1.00)"), (5, "step 1\n(0.00, 1.00, …)")]
)
def test_latent_path_titles_images_with_their_codes(scatter, dim, first_title):
    coords = np.zeros((4, dim))
    coords[:, 1] = 1.0
    path = RNG.normal(size=(4, 2))

    fig = plot_latent_path(path, _images(4), coords, scatter, "Morph toward 'Trouser'")

    image_axes = _image_axes(fig)
    assert len(image_axes) == 4
    assert image_axes[0].get_title() == first_title
    assert _suptitle(fig) == "Morph toward 'Trouser'"
    assert _legend_texts(fig) == ["start", "end", *FASHION_MNIST_CLASSES]
    (map_ax,) = [ax for ax in fig.axes if ax.collections]
    np.testing.assert_allclose(map_ax.lines[0].get_xydata(), path)


def test_latent_path_wraps_long_paths_and_checks_lengths(scatter):
    fig = plot_latent_path(
        RNG.normal(size=(13, 2)), _images(13), RNG.normal(size=(13, 2)), scatter, "t"
    )
    assert len(_image_axes(fig)) == 13
    assert len(fig.axes) == 1 + 2 * 10  # scatter + two rows of ten, 7 left blank
    with pytest.raises(ValueError, match=r"coords of shape \(3, d\)"):
        plot_latent_path(np.zeros((3, 2)), _images(3), np.zeros((2, 2)), scatter, "t")


FIGURES = {
    "history": lambda s: plot_training_history(_history(1)),
    "reconstructions": lambda s: plot_reconstructions(
        _images(4), _images(4), np.arange(4), FASHION_MNIST_CLASSES
    ),
    "scatter": plot_latent_scatter,
    "prior": lambda s: plot_prior_samples(_images(6), RNG.normal(size=(6, 2)), s),
    "manifold": lambda s: plot_latent_manifold(
        _images(12), np.arange(4.0), np.arange(3.0), ("x", "y")
    ),
    "path": lambda s: plot_latent_path(
        RNG.normal(size=(5, 2)), _images(5), RNG.normal(size=(5, 3)), s, "Path"
    ),
}


@pytest.mark.filterwarnings("error")  # layout warnings, e.g. collapsed axes, fail
@pytest.mark.parametrize("name", FIGURES)
def test_figures_render_to_png(scatter, tmp_path, name):
    fig = FIGURES[name](scatter)

    target = tmp_path / f"{name}.png"
    fig.savefig(target)

    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_colour_images_are_shown_in_colour_and_non_square_unstretched():
    rgb = RNG.uniform(0, 1, (3, 8, 16, 3))  # wide: 8 high, 16 wide
    fig = plot_reconstructions(rgb, rgb, np.zeros(3, int), ["only"])
    shown = [ax.images[0] for ax in _image_axes(fig)]
    assert all(image.get_array().shape == (8, 16, 3) for image in shown)
    np.testing.assert_allclose(shown[0].get_array(), rgb[0])
    left, right, bottom, top = shown[0].get_extent()
    assert (right - left) == 2 * (bottom - top)  # pixels stay square
    assert all(ax.get_aspect() == 1.0 for ax in _image_axes(fig))


def test_uint8_images_are_scaled_for_display():
    pixels = (RNG.uniform(0, 1, (2, 8, 8, 1)) * 255).astype(np.uint8)
    fig = plot_reconstructions(pixels, pixels, np.zeros(2, int), ["a"])
    shown = _image_axes(fig)[0].images[0].get_array()
    np.testing.assert_allclose(shown, pixels[0, ..., 0] / 255)


def test_colour_manifold_keeps_its_channels():
    images = RNG.uniform(0, 1, (6, 4, 8, 3))
    fig = plot_latent_manifold(images, np.arange(3.0), np.arange(2.0), ("x", "y"))
    mosaic = _image_axes(fig)[0].images[0].get_array()
    assert mosaic.shape == (2 * 4, 3 * 8, 3)


def test_unlabelled_scatter_has_one_colour_and_no_legend():
    points = RNG.normal(size=(20, 2))
    scatter = LatentScatter(points, np.full(20, -1), [], ("z[0]", "z[1]"))
    fig = plot_latent_scatter(scatter)
    colours = fig.axes[0].collections[0].get_facecolors()
    assert len(np.unique(colours.round(6), axis=0)) == 1
    assert _legend_texts(fig) == []
