"""The image given to ``dance-tf explain``: opened (an unreadable file is one line, before
any model loads), the default model for it (a colour or large picture → the trained
ImageNet net when installed, else digits), and read into the model's input — refused,
naming the models to use, when the model cannot take it."""

from __future__ import annotations

from pathlib import Path

from dance_tf.cli.console import CLIError, log
from dance_tf.cli.models import photo_models
from dance_tf.models import registry

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def open_image(path: Path):
    """PIL image of ``path``, fully decoded; unreadable → CLIError 'FILE: why'
    (``dance_tf.data.images.open_image``)."""
    from dance_tf.data import images

    try:
        return images.open_image(path)
    except (OSError, ValueError) as err:
        msg = str(err)
        if msg.endswith("not an image file PIL can read"):
            msg += f" (expected one of {', '.join(IMAGE_SUFFIXES)})"
        raise CLIError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def _pixels(img, path: Path):
    """(H, W, C) float32 in [0, 1] and whether the image has colour
    (``dance_tf.data.images.pixels``: high depths scaled by their range)."""
    from dance_tf.data import images

    try:
        return images.pixels(img, path)
    except ValueError as err:
        raise CLIError(str(err)) from None


def default_image_model(path: Path) -> str:
    """``efficientnet_lite0`` for a colour or large picture when its weights package is
    installed (the [imagenet] extra), else ``digits`` (the embedded default)."""
    import importlib.util

    with open_image(path) as img:
        pixels, colour = _pixels(img, path)
    photo = colour or max(pixels.shape[:2]) > 8 * 32
    net = registry.get(registry.default_for("imagenet"))
    if photo and importlib.util.find_spec(net.weights_package) is not None:
        log(f"{path.name}: a {'colour' if colour else 'large'} picture: explaining it with "
            f"{net.name} (the trained ImageNet net; --model to choose another)")
        return net.name
    return registry.default_for("digits")


def read_image(path: Path, model, kind: str, model_name: str = "") -> tuple:
    """(x (H, W, C) float32, display range) for the model.

    Refuses (CLIError) an image the model cannot take: a colour photo or a large picture
    given to a small greyscale model (e.g. the 32×32 digits CNN) names the models to use.
    """
    import numpy as np

    from dance_tf.data import images

    if kind not in ("digits", "keras"):
        from dance_tf.data import imagenet

        open_image(path).close()
        try:
            x = imagenet.load_image(path, mode=model)
        except (OSError, ValueError) as err:
            msg = str(err)
            raise CLIError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
        return x, imagenet.value_range(model)
    shape = model.input_shape[1:]
    if len(shape) != 3 or shape[0] is None or shape[1] is None:
        raise CLIError(f"--model: expected an image model with a fixed (H, W, C) input, got "
                       f"{shape}")
    h, w, c = shape
    if c not in (1, 3):
        raise CLIError(f"--model: expected 1 or 3 input channels, got {c}")
    with open_image(path) as img:
        pixels, colour = _pixels(img, path)
        high_depth = images.is_high_depth(img)
    H, W = pixels.shape[:2]
    what = f"the {model_name or kind} model takes {h}×{w} greyscale images"
    if c == 1 and colour:
        raise CLIError(f"{path}: a colour image ({W}×{H}) but {what}; for photos use "
                       f"{photo_models()} (with --checkpoint for the slim nets)")
    if c == 1 and max(H / h, W / w) > 8:
        raise CLIError(f"{path}: a {W}×{H} image but {what} (it would be shrunk "
                       f"{max(H / h, W / w):.0f}×); crop or resize it first, or for photos "
                       f"use {photo_models()}")
    from PIL import Image

    if high_depth:  # 16/32-bit, float: resize the [0, 1] floats, no 8-bit rounding
        grey = Image.fromarray(np.ascontiguousarray(pixels[..., 0]), mode="F")
        x = np.asarray(grey.resize((w, h), Image.BILINEAR), np.float32)[..., None]
        x = np.repeat(x, c, axis=-1)
    else:  # 8-bit: PIL's own conversion and resize, then / 255
        with open_image(path) as img:
            small = images.eight_bit(img, path).convert("L" if c == 1 else "RGB")
            small = small.resize((w, h), Image.BILINEAR)
            x = np.asarray(small, np.float32) / 255.0
    return np.clip(x, 0.0, 1.0).astype(np.float32).reshape(h, w, c), (0.0, 1.0)
