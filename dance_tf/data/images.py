"""Decode one picture file: the single reader behind ``dance-tf explain`` (``cli.read_image``)
and the ImageNet pipeline (``dance_tf.data.imagenet.read_rgb``).

Opening (:func:`open_image`): a missing file is ``FileNotFoundError``; an empty, zero-sized,
unidentifiable, truncated or corrupt file, or one larger than PIL's decompression-bomb
limit (``PIL.Image.MAX_IMAGE_PIXELS`` × 2 pixels), is :class:`~dance_tf.errors.InputError`
whose message starts with the path.

Intensity scale of one-channel images of more than 8 bits (:func:`grey_levels`, in [0, 1]):

* 16-bit (PIL modes ``I;16*``): v / 65535;
* 32-bit integer (mode ``I``): a PNG by its declared bit depth; otherwise the smallest of
  the 8-bit (255) and 16-bit (65535) ranges that holds the maximum, and above those the
  full range of the file's sample type: 2³² − 1 for an unsigned 32-bit TIFF, else
  2³¹ − 1 (mode ``I`` is signed 32-bit). Nothing is clipped. Negative values are refused
  (no known scale);
* float (mode ``F``): values in [0, 1] are taken as is, values in [0, 255] are divided by
  255; NaN, infinity or values outside [0, 255] are refused.

Alpha: the colour values are kept and the alpha channel is dropped (as Caffe / OpenCV
readers do) — except for a picture drawn only in its alpha channel (the colour is the same
everywhere and the opacity varies), which would become one flat colour: that is refused
with a message saying to flatten it onto a background first.
"""

from __future__ import annotations

import os

import numpy as np

from dance_tf.errors import InputError

#: PIL modes that carry an alpha channel (P with a ``transparency`` entry also does)
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def _declared_size(path: str) -> tuple[int, int] | None:
    """Width and height a PNG header declares (PIL refuses to open 0-sized PNGs)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return None


def open_image(path: str | os.PathLike):
    """The PIL image of ``path``, fully decoded (use it as a context manager).

    Raises FileNotFoundError (no such file) or InputError (anything unreadable); both
    messages start with the path.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such image file")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: image file is empty (0 bytes)")
    declared = _declared_size(path)
    if declared is not None and 0 in declared:
        raise InputError(f"{path}: image has zero size {declared}")
    img = None
    try:
        img = Image.open(path)
        if img.width == 0 or img.height == 0:
            raise InputError(f"{path}: image has zero size {img.size}")
        img.load()
        return img
    except InputError:
        img.close()
        raise
    except UnidentifiedImageError as err:
        raise InputError(f"{path}: not an image file PIL can read") from err
    except Image.DecompressionBombError as err:
        raise InputError(f"{path}: image too large to decode safely ({err})") from err
    except (OSError, SyntaxError, EOFError, MemoryError, ValueError) as err:
        if img is not None:
            img.close()
        text = " ".join(str(err).split())[:300]
        raise InputError(f"{path}: cannot decode image (truncated or corrupt?): {text}") \
            from err


def is_high_depth(img) -> bool:
    """True for one-channel images of more than 8 bits (PIL modes ``I;16*``, ``I``, ``F``)."""
    return img.mode.startswith("I") or img.mode == "F"


def _png_bits(img, path: str) -> int | None:
    """Bits per sample a PNG header declares (None for other formats)."""
    if img.format != "PNG":
        return None
    with open(path, "rb") as fh:
        head = fh.read(25)
    return head[24] if len(head) == 25 and head[12:16] == b"IHDR" else None


def _unsigned_32bit_tiff(img) -> bool:
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    if tags is None:
        return False
    bits, fmt = tags.get(258, (None,)), tags.get(339, (1,))
    bits = bits[0] if isinstance(bits, tuple) else bits
    fmt = fmt[0] if isinstance(fmt, tuple) else fmt
    return bits == 32 and fmt == 1


def _int_top(img, path: str, values: np.ndarray) -> float:
    bits = _png_bits(img, path)
    if bits is not None:
        return 2.0 ** bits - 1
    peak = float(values.max()) if values.size else 0.0
    if peak <= 255:
        return 255.0
    if peak <= 65535:
        return 65535.0
    return 2.0 ** 32 - 1 if _unsigned_32bit_tiff(img) else 2.0 ** 31 - 1


def grey_levels(img, path: str | os.PathLike) -> np.ndarray:
    """A high-depth one-channel image (:func:`is_high_depth`) → float64 ``(H, W)`` in
    [0, 1] by the rules of the module docstring; InputError when the scale is unknown."""
    path = os.fspath(path)
    values = np.asarray(img)
    if img.mode.startswith("I;16"):
        return values.astype(np.float64) / 65535.0
    if img.mode == "I":
        if _unsigned_32bit_tiff(img):  # PIL holds uint32 samples in int32
            values = values.astype(np.int32, copy=False).view(np.uint32)
        values = values.astype(np.float64)
        if values.size and values.min() < 0:
            raise InputError(f"{path}: 32-bit integer image with negative values "
                             f"(min {values.min():g}); cannot tell its intensity scale")
        return values / _int_top(img, path, values)
    if img.mode != "F":
        raise InputError(f"{path}: mode {img.mode} is not a high-depth greyscale image")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise InputError(f"{path}: floating-point image with NaN or infinite values")
    lo, hi = (values.min(), values.max()) if values.size else (0.0, 0.0)
    if lo < 0 or hi > 255:
        raise InputError(f"{path}: floating-point image with values in [{lo:g}, {hi:g}]; "
                         "expected [0, 1] or [0, 255]")
    return values if hi <= 1.0 else values / 255.0


def check_alpha(img, path: str | os.PathLike) -> None:
    """InputError when the picture is drawn only in the alpha channel (module docstring):
    dropping the alpha would leave one flat colour."""
    if img.mode not in ALPHA_MODES and not (img.mode == "P" and "transparency" in img.info):
        return
    rgba = np.asarray(img.convert("RGBA"))
    colour, alpha = rgba[..., :3], rgba[..., 3]
    if alpha.size and alpha.min() != alpha.max() and np.all(colour == colour[:1, :1]):
        flat = tuple(int(v) for v in colour[0, 0])
        raise InputError(
            f"{os.fspath(path)}: the picture is only in its alpha (transparency) channel: "
            f"every pixel has colour {flat} and only the opacity varies, so without the "
            "alpha it is one flat colour; flatten it onto a background first (e.g. PIL "
            "Image.alpha_composite onto a white or black image) and pass that file")


def eight_bit(img, path: str | os.PathLike):
    """An 8-bit PIL image of the same picture: high depths → mode ``L`` (rounded
    :func:`grey_levels` × 255), others as they are once :func:`check_alpha` passed."""
    from PIL import Image

    if is_high_depth(img):
        grey = np.rint(grey_levels(img, path) * 255.0).astype(np.uint8)
        return Image.fromarray(grey)  # uint8 (H, W): mode L
    check_alpha(img, path)
    return img


def pixels(img, path: str | os.PathLike) -> tuple[np.ndarray, bool]:
    """``(float32 (H, W, C) in [0, 1], colour)``: C = 1 for greyscale (any depth, high
    depths unrounded), else 3 (RGB / 255, alpha dropped); ``colour`` is True when the
    channels differ by more than 2/255 somewhere."""
    if is_high_depth(img):
        return grey_levels(img, path).astype(np.float32)[..., None], False
    check_alpha(img, path)
    if img.mode in ("L", "1", "LA", "La"):
        return np.asarray(img.convert("L"), np.float32)[..., None] / 255.0, False
    rgb = np.asarray(img.convert("RGB"), np.float32) / 255.0
    colour = bool(np.ptp(rgb, axis=-1).max() > 2.0 / 255.0) if rgb.size else False
    return rgb, colour


__all__ = ["open_image", "is_high_depth", "grey_levels", "check_alpha", "eight_bit", "pixels",
           "ALPHA_MODES"]
