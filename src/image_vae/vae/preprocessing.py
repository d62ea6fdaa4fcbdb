"""Turning raw images into model input: one uint8 ``(H, W, C)`` array per image.

Pure NumPy and Pillow. The model input keeps pixels as uint8 (scaled to [0, 1] a
batch at a time, see :mod:`image_vae.vae.scaling`); this module decides the size
and channels and fits each image to them:

- ``pad``: images larger than the target are scaled down, keeping their aspect;
  every image is then centred on a black canvas of the target size. Nothing is
  ever stretched or enlarged (Fashion-MNIST's 28 → 32 is exactly this).
- ``fit``: scaled up or down, keeping the aspect, to fit the target; then padded.
- ``crop``: scaled, keeping the aspect, to cover the target; then centre-cropped.
- ``stretch``: resized to the target, aspect not kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

ResizeMode = Literal["pad", "fit", "crop", "stretch"]
Channels = Literal["auto", "grey", "rgb"]
# Pillow modes whose pixels are grey levels; every other mode becomes RGB.
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
_PIL_MODE = {1: "L", 3: "RGB"}


def side_multiple(n_conv: int) -> int:
    """Each side must be divisible by this: ``2**n_conv`` stride-2 convolutions."""
    return 2**n_conv


def nearest_valid_sides(side: int, n_conv: int) -> tuple[int, ...]:
    """The valid sides next to ``side``: the one below (if any) and the one above."""
    step = side_multiple(n_conv)
    below, above = (side // step) * step, -(-side // step) * step
    return tuple(s for s in dict.fromkeys((below, above)) if s > 0)


def invalid_size_message(size: Sequence[int], n_conv: int) -> str | None:
    """Why ``(H, W)`` cannot enter the encoder, naming the nearest sizes; else None."""
    step = side_multiple(n_conv)
    if all(side % step == 0 for side in size):
        return None
    options = [
        f"{h}×{w}"
        for h in nearest_valid_sides(size[0], n_conv)
        for w in nearest_valid_sides(size[1], n_conv)
    ]
    return (
        f"{size[0]}×{size[1]} does not fit the encoder's {n_conv} stride-2 "
        f"convolutions (training.filters), which need sides divisible by {step}; "
        f"nearest sizes: {', '.join(options)}"
    )


def scaled_down(height: int, width: int, max_side: int) -> tuple[int, int]:
    """``(height, width)`` scaled, keeping the aspect, so the longer side ≤ max_side."""
    longest = max(height, width)
    if longest <= max_side:
        return height, width
    scale = max_side / longest
    return max(1, round(height * scale)), max(1, round(width * scale))


def choose_shape(  # noqa: PLR0913  the images, then keyword-only settings
    sizes: np.ndarray,
    modes: Sequence[str],
    *,
    n_conv: int,
    max_side: int,
    size: Sequence[int] | None = None,
    channels: Channels = "auto",
) -> tuple[int, int, int]:
    """The model input shape ``(H, W, C)`` for a set of images.

    Args:
        sizes: ``(n, 2)`` heights and widths of the images.
        modes: Pillow modes of the images (``"L"``, ``"RGB"``, …); distinct ones
            are enough.
        n_conv: Stride-2 convolutions of the encoder.
        max_side: Larger images count as scaled down to this longer side.
        size: ``(H, W)`` chosen by the user; ``None`` takes the largest height
            and width of the (scaled-down) images, rounded up to the nearest
            sides the encoder accepts.
        channels: ``"grey"``, ``"rgb"``, or ``"auto"``: grey if every image is.

    Returns:
        ``(H, W, C)`` with ``C`` 1 or 3.
    """
    if channels == "auto":
        depth = 1 if set(modes) <= GREY_MODES else 3
    else:
        depth = 1 if channels == "grey" else 3
    if size is not None:
        return int(size[0]), int(size[1]), depth
    sizes = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    longest = sizes.max(axis=1)
    scale = np.minimum(1.0, max_side / longest)
    heights = np.maximum(1, np.round(sizes[:, 0] * scale)).astype(int)
    widths = np.maximum(1, np.round(sizes[:, 1] * scale)).astype(int)
    step = side_multiple(n_conv)
    return (
        int(math.ceil(heights.max() / step) * step),
        int(math.ceil(widths.max() / step) * step),
        depth,
    )


def fit_image(
    image: Image.Image | np.ndarray, shape: Sequence[int], resize: ResizeMode = "pad"
) -> np.ndarray:
    """One image at the model input's size and channels.

    Args:
        image: A Pillow image of any mode, or a uint8 ``(h, w)`` / ``(h, w, c)``
            array.
        shape: ``(H, W, C)``, ``C`` 1 or 3.
        resize: How the image reaches ``H × W`` (see the module docstring).

    Returns:
        ``(H, W, C)`` uint8.

    Raises:
        ValueError: The mode cannot be converted to grey or RGB (Pillow's message).
    """
    height, width, depth = (int(s) for s in shape)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image.squeeze(-1) if image.ndim == 3 else image)
    image = to_mode(image, _PIL_MODE[depth])
    w, h = image.size
    if resize == "stretch":
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    elif resize == "crop":
        scale = max(height / h, width / w)
        image = _scaled(image, scale)
        left, top = (image.width - width) // 2, (image.height - height) // 2
        image = image.crop((left, top, left + width, top + height))
    else:
        scale = min(height / h, width / w)
        if resize == "fit" or scale < 1:
            image = _scaled(image, scale)
    canvas = np.zeros((height, width, depth), dtype=np.uint8)
    pixels = np.asarray(image, dtype=np.uint8).reshape(image.height, image.width, -1)
    top, left = (height - image.height) // 2, (width - image.width) // 2
    canvas[top : top + image.height, left : left + image.width] = pixels
    return canvas


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """``image`` in mode ``"L"`` or ``"RGB"``; transparency composited on black.

    16-bit and float grey images are rescaled from their own range to 0…255,
    which Pillow's ``convert`` would clip instead.

    Raises:
        ValueError: Pillow cannot convert the mode.
    """
    if image.mode == mode:
        return image
    if image.mode in {"I", "I;16", "I;16B", "I;16L", "F"}:
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low or 1.0) * 255.0
        image = Image.fromarray(np.round(scaled).astype(np.uint8), "L")
        return image if mode == "L" else image.convert(mode)
    if image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    ):
        image = image.convert("RGBA")
        black = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(black, image)
    return image.convert(mode)


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def pad_arrays(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Centres uint8 ``(n, h, w[, c])`` images on black ``(n, H, W, C)`` canvases.

    The vectorised twin of :func:`fit_image` with ``resize="pad"`` for images
    that already fit and have the target channels (Fashion-MNIST: 28 → 32).
    """
    if images.ndim == 3:
        images = images[..., np.newaxis]
    n, h, w, _ = images.shape
    height, width, depth = shape
    out = np.zeros((n, height, width, depth), dtype=np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    out[:, top : top + h, left : left + w] = images
    return out


@dataclass(frozen=True)
class StreamedImages:
    """Model-input images produced a chunk at a time, never all in memory.

    ``NumpyDataset`` writes them to ``.npy`` chunk by chunk; ``np.asarray`` (for
    tests and small sets) builds the whole array.

    Attributes:
        shape: ``(N, H, W, C)`` of the whole array.
        chunk: ``chunk(start, stop)`` returns images ``start:stop`` as uint8.
        chunk_size: Images per chunk.
    """

    shape: tuple[int, int, int, int]
    chunk: Callable[[int, int], np.ndarray]
    chunk_size: int = 1024
    dtype = np.dtype(np.uint8)

    def chunks(self) -> Iterator[np.ndarray]:
        """The images in order, ``chunk_size`` at a time."""
        for start in range(0, self.shape[0], self.chunk_size):
            yield self.chunk(start, min(start + self.chunk_size, self.shape[0]))

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        parts = list(self.chunks())
        out = np.concatenate(parts) if parts else np.zeros(self.shape, dtype=np.uint8)
        return out if dtype is None else out.astype(dtype)


def preprocess_images(images: np.ndarray, pad: int = 2) -> np.ndarray:
    """Normalises to [0, 1], zero-pads each side and adds a channel axis.

    Kept for notebooks written against the float32 model input; the pipelines
    store uint8 (see :func:`fit_image`).

    Args:
        images: ``(N, H, W)`` uint8 images, or ``(N, H, W, C)``.
        pad: Zero border added on each side (≥ 0).

    Returns:
        ``(N, H + 2·pad, W + 2·pad, C)`` float32 in [0, 1] (``C = 1`` for 3-D input).
    """
    if pad < 0:
        raise ValueError(f"pad must be ≥ 0, received pad={pad}")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(
            "expected images of shape (N, H, W) or (N, H, W, C), "
            f"received {images.shape}"
        )
    scale = 255.0 if np.issubdtype(images.dtype, np.integer) else 1.0
    out = np.zeros(
        (
            images.shape[0],
            images.shape[1] + 2 * pad,
            images.shape[2] + 2 * pad,
            images.shape[3],
        ),
        dtype=np.float32,
    )
    out[:, pad : pad + images.shape[1], pad : pad + images.shape[2], :] = images / scale
    return out
