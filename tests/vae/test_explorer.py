"""The explorer page: its sprite holds exactly what the decoder makes, and it is
self-contained. A tiny real (untrained) VAE decodes; codes are synthetic."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from image_vae.vae import VAE
from image_vae.vae.explorer import WALK_MODES, build_explorer_html
from image_vae.vae.latent import Projection2D, class_direction, morph_path

CLASSES = ("circle", "square", "triangle")


def clustered_codes(dim: int, n: int = 300, seed: int = 0):
    """Three classes of codes around different centres."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    centres = rng.normal(0, 2, (len(CLASSES), dim))
    return centres[labels] + rng.normal(0, 0.5, (n, dim)), labels


def parse(page: str) -> tuple[dict, np.ndarray]:
    """The page's JSON data and its sprite as an ``(H, W, C)`` uint8 array."""
    data = json.loads(
        re.search(r'id="explorer-data">(.*?)</script>', page, re.DOTALL).group(1)
    )
    encoded = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    sprite = np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))
    return data, sprite if sprite.ndim == 3 else sprite[..., None]


def tile(sprite: np.ndarray, index: int, columns: int, side: int) -> np.ndarray:
    row, column = divmod(index, columns)
    return sprite[row * side : (row + 1) * side, column * side : (column + 1) * side]


def as_uint8(images: np.ndarray) -> np.ndarray:
    return np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def gray_model() -> VAE:
    return VAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=1)


def test_sprite_holds_the_grid_then_every_walk_as_decoded(gray_model):
    z, labels = clustered_codes(2)
    grid_size, steps, length = 5, 4, 2.5
    page = build_explorer_html(
        gray_model.decode,
        z,
        labels,
        CLASSES,
        grid_size=grid_size,
        walk_steps=steps,
        morph_length=length,
        seed=3,
    )
    data, sprite = parse(page)

    starts = 1 + len(CLASSES)  # the random z₀, then one typical code per class
    walks = starts * len(CLASSES) * len(WALK_MODES)
    assert len(data["starts"]) == starts and len(data["walk"]["plane"]) == walks
    tiles = grid_size**2 + walks * steps
    assert sprite.shape == (-(-tiles // grid_size) * 8, grid_size * 8, 1)

    # Grid point (row 1, column 3), row 0 at the top: identity view for d = 2.
    code = np.array([[data["grid"]["x"][3], data["grid"]["y"][1]]], np.float32)
    np.testing.assert_allclose(
        tile(sprite, 1 * grid_size + 3, grid_size, 8),
        as_uint8(gray_model.decode(code))[0],
        atol=1,
    )
    assert data["grid"]["y"] == sorted(data["grid"]["y"], reverse=True)

    # Last step of the morph from the random start toward class 2 (the morph
    # pipeline's start and direction).
    z0 = np.random.default_rng(3).standard_normal(2)
    end = morph_path(z0, class_direction(z, labels, 2), length, steps)[-1]
    path = (0 * len(CLASSES) + 2) * len(WALK_MODES) + WALK_MODES.index("morph")
    np.testing.assert_allclose(
        tile(sprite, grid_size**2 + path * steps + steps - 1, grid_size, 8),
        as_uint8(gray_model.decode(end[None]))[0],
        atol=1,
    )
    np.testing.assert_allclose(data["walk"]["plane"][path][-1], end, atol=1e-3)

    # The straight walk from a typical "square" ends on the square's mean code.
    path = (2 * len(CLASSES) + 1) * len(WALK_MODES) + WALK_MODES.index("straight")
    np.testing.assert_allclose(
        data["walk"]["plane"][path][-1], z[labels == 1].mean(axis=0), atol=1e-3
    )
    assert data["starts"][2]["name"].startswith("a typical square")


def test_pca_plane_and_rgb_images():
    model = VAE(input_shape=(8, 8, 3), latent_dim=3, filters=(4,), seed=1)
    z, labels = clustered_codes(3)
    data, sprite = parse(
        build_explorer_html(model.decode, z, labels, CLASSES, grid_size=3, walk_steps=2)
    )
    assert data["isPca"] and data["axisLabels"][0].startswith("PC 1")
    projection = Projection2D().fit(z)
    np.testing.assert_allclose(data["points"], projection.transform(z), atol=1e-3)
    assert sprite.shape[-1] == 3
    centre = projection.inverse_transform(
        [[data["grid"]["x"][1], data["grid"]["y"][1]]]
    )
    np.testing.assert_allclose(
        tile(sprite, 4, 3, 8),
        as_uint8(model.decode(centre.astype(np.float32)))[0],
        atol=1,
    )


def test_page_is_one_self_contained_document(gray_model):
    z, labels = clustered_codes(2)
    page = build_explorer_html(
        gray_model.decode, z, labels, CLASSES, grid_size=3, title="<Mine>"
    )
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing loaded from elsewhere: every src/href is inline data.
    assert not re.findall(r'(?:src|href)="(?!data:)', page)
    assert "<title>&lt;Mine&gt;</title>" in page
    assert "__EXPLORER_" not in page


@pytest.mark.parametrize(
    ("labels", "message"),
    [(np.zeros(300, int), "at least two classes"), (np.full(300, 3), "labels in")],
)
def test_bad_labels_are_named(gray_model, labels, message):
    z, _ = clustered_codes(2)
    with pytest.raises(ValueError, match=message):
        build_explorer_html(gray_model.decode, z, labels, CLASSES)
