"""Tests for the latent-space maths (pure NumPy, synthetic data)."""

import ast
from pathlib import Path

import numpy as np
import pytest

from image_vae.vae import latent
from image_vae.vae.latent import (
    FASHION_MNIST_CLASSES,
    Projection2D,
    class_direction,
    grid_points,
    latent_grid,
    morph_path,
    resolve_class,
    straight_path,
)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("Trouser", 1),
        ("trouser", 1),
        ("ANKLE BOOT", 9),
        (1, 1),
        ("1", 1),
        (np.int64(9), 9),
    ],
)
def test_resolve_class_accepts_names_and_indices(target, expected):
    assert resolve_class(target) == expected


@pytest.mark.parametrize("target", ["Trousers", 10, -1, "-1", "", True, 1.0])
def test_resolve_class_rejects_anything_else_listing_the_choices(target):
    with pytest.raises(ValueError, match=r"Received: target=") as error:
        resolve_class(target)
    message = str(error.value)
    assert "\n" not in message
    assert "0='T-shirt/top'" in message
    assert "9='Ankle boot'" in message
    assert message.endswith(repr(target))


def test_resolve_class_uses_the_given_names():
    assert resolve_class("b", class_names=("a", "b")) == 1
    with pytest.raises(ValueError, match="1='b'"):
        resolve_class(2, class_names=("a", "b"))


def test_class_direction_is_unit_and_points_from_others_to_class():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, 0.0], [0.0, -2.0, 2.0]])
    labels = np.repeat([0, 1, 2], 50)
    z = centres[labels] + rng.normal(0, 0.3, (150, 3))

    direction = class_direction(z, labels, 1)

    expected = z[labels == 1].mean(0) - z[labels != 1].mean(0)
    np.testing.assert_allclose(np.linalg.norm(direction), 1.0)
    np.testing.assert_allclose(direction, expected / np.linalg.norm(expected))
    # Walking along it moves towards the class centre.
    assert direction @ (centres[1] - centres[[0, 2]].mean(0)) > 0.9 * np.linalg.norm(
        centres[1] - centres[[0, 2]].mean(0)
    )


@pytest.mark.parametrize(
    ("labels", "target", "match"),
    [
        ([0, 0, 2, 2], 1, "target class"),
        ([1, 1, 1, 1], 1, "every other class"),
    ],
)
def test_class_direction_needs_both_groups(labels, target, match):
    z = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match=match):
        class_direction(z, np.array(labels), target)


def test_class_direction_rejects_equal_means_and_bad_shapes():
    z = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    with pytest.raises(ValueError, match="same mean"):
        class_direction(z, np.array([1, 0, 0]), 1)
    with pytest.raises(ValueError, match=r"labels.shape=\(2,\)"):
        class_direction(z, np.array([1, 0]), 1)


def test_straight_path_hits_both_ends_with_equal_steps():
    start, end = np.array([0.0, 1.0, -2.0]), np.array([3.0, -1.0, 5.0])

    path = straight_path(start, end, 7)

    assert path.shape == (7, 3)
    np.testing.assert_array_equal(path[0], start)
    np.testing.assert_array_equal(path[-1], end)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(steps, np.linalg.norm(end - start) / 6)


def test_straight_path_validates_inputs():
    with pytest.raises(ValueError, match=r"len\(start\)=3, len\(end\)=2"):
        straight_path(np.zeros(3), np.zeros(2), 5)
    with pytest.raises(ValueError, match="steps=1"):
        straight_path(np.zeros(2), np.ones(2), 1)


def test_morph_path_covers_the_length_along_the_direction():
    start, direction = np.array([1.0, 2.0]), np.array([3.0, 4.0])

    path = morph_path(start, direction, length=2.5, steps=6)

    assert path.shape == (6, 2)
    np.testing.assert_array_equal(path[0], start)
    np.testing.assert_allclose(np.linalg.norm(path[-1] - start), 2.5)
    np.testing.assert_allclose(path[-1] - start, 2.5 * direction / 5.0)
    with pytest.raises(ValueError, match="non-zero direction"):
        morph_path(start, np.zeros(2), 1.0, 3)


def _anisotropic_codes(stds, n=4000, seed=0):
    """Codes with the given standard deviations along random orthonormal axes."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.normal(size=(len(stds), len(stds))))
    offset = rng.normal(size=len(stds))
    return offset + (rng.normal(size=(n, len(stds))) * stds) @ axes.T, axes


def test_projection_uses_pca_for_more_than_two_dims():
    stds = np.array([5.0, 2.0, 0.5, 0.1])
    z, axes = _anisotropic_codes(stds)

    projection = Projection2D().fit(z)
    points = projection.transform(z)

    assert projection.is_pca
    x_label, y_label = projection.axis_labels
    assert x_label.startswith("PC 1 (") and "% var.)" in x_label
    assert y_label.startswith("PC 2 (")
    # The plane is spanned by the two widest axes, in order.
    np.testing.assert_allclose(
        np.abs(projection.components @ axes[:, :2]), np.eye(2), atol=0.02
    )
    np.testing.assert_allclose(points.std(axis=0), stds[:2], rtol=0.05)
    share = stds[:2] ** 2 / np.sum(stds**2)
    np.testing.assert_allclose(projection.explained_variance_ratio, share, rtol=0.05)
    assert f"{100 * projection.explained_variance_ratio[0]:.0f} % var." in x_label


def test_projection_inverse_round_trips_points_in_the_plane():
    z, _ = _anisotropic_codes(np.array([3.0, 1.0, 0.2]), n=300)
    projection = Projection2D().fit(z)
    plane_points = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5]])

    codes = projection.inverse_transform(plane_points)

    assert codes.shape == (3, 3)
    np.testing.assert_allclose(codes[0], projection.mean)
    np.testing.assert_allclose(projection.transform(codes), plane_points, atol=1e-12)
    # A code already in the plane comes back unchanged.
    in_plane = projection.inverse_transform(projection.transform(codes))
    np.testing.assert_allclose(in_plane, codes, atol=1e-12)


def test_projection_is_identity_for_two_dims():
    z = np.random.default_rng(1).normal(size=(20, 2))

    projection = Projection2D().fit(z)

    assert not projection.is_pca
    assert projection.axis_labels == ("z[0]", "z[1]")
    np.testing.assert_array_equal(projection.transform(z), z)
    np.testing.assert_array_equal(projection.inverse_transform(z), z)


def test_projection_puts_one_dim_on_the_x_axis():
    z = np.array([[-1.0], [0.5], [2.0]])

    projection = Projection2D().fit(z)
    points = projection.transform(z)

    np.testing.assert_array_equal(points, [[-1.0, 0.0], [0.5, 0.0], [2.0, 0.0]])
    assert projection.axis_labels[0] == "z[0]"
    assert "y = 0" in projection.axis_labels[1]
    np.testing.assert_array_equal(projection.inverse_transform(points), z)


def test_projection_validates_state_and_shapes():
    with pytest.raises(ValueError, match="not fitted"):
        Projection2D().transform(np.zeros((2, 3)))
    projection = Projection2D().fit(np.random.default_rng(2).normal(size=(10, 3)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        projection.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        Projection2D().fit(np.zeros((1, 5)))


def test_latent_grid_is_finite_symmetric_and_ordered():
    coords_x, coords_y = latent_grid(9)

    assert coords_x.shape == coords_y.shape == (9,)
    assert np.isfinite(coords_x).all() and np.isfinite(coords_y).all()
    np.testing.assert_allclose(coords_x, -coords_x[::-1], atol=1e-12)
    assert np.all(np.diff(coords_x) > 0)
    np.testing.assert_array_equal(coords_y, coords_x[::-1])
    np.testing.assert_allclose(coords_x[[0, 4, -1]], [-1.6449, 0.0, 1.6449], atol=1e-4)


def test_latent_grid_stays_finite_near_the_edges_and_rejects_them():
    coords_x, _ = latent_grid(5, low_q=1e-9, high_q=1 - 1e-9)
    assert np.isfinite(coords_x).all()
    with pytest.raises(ValueError, match="high_q=1"):
        latent_grid(5, low_q=0.0, high_q=1.0)
    with pytest.raises(ValueError, match="n=1"):
        latent_grid(1)


def test_grid_points_are_row_major():
    points = grid_points(np.array([1.0, 2.0, 3.0]), np.array([9.0, 8.0]))

    np.testing.assert_array_equal(
        points, [[1, 9], [2, 9], [3, 9], [1, 8], [2, 8], [3, 8]]
    )


def test_latent_constants():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[1] == "Trouser"


def test_latent_and_plotting_import_no_framework():
    forbidden = {"kedro", "mlflow", "tensorflow", "keras", "torch"}
    folder = Path(latent.__file__).parent
    for name in ("latent.py", "plotting.py"):
        tree = ast.parse((folder / name).read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & forbidden, (name, imported & forbidden)
