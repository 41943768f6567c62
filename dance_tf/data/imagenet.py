"""ImageNet input pipeline for the zoo models (S5) and EfficientNet-Lite0.

One preprocessing mode per family of weights:

=====================  =====  =============================  =====  =====================
mode                   order  mean subtracted (that order)   ÷ std  used by
=====================  =====  =============================  =====  =====================
``slim_rgb``           RGB    [123.68, 116.78, 103.94]       1      slim ``vgg_16``,
                                                                    ``resnet_v1_50``,
                                                                    ``alexnet_v2``
``caffe_bgr``          BGR    [103.939, 116.779, 123.68]     1      ``caffe_alexnet``
                                                                    (bvlc_alexnet.npy; S5)
``efficientnet_lite``  RGB    [127, 127, 127]                128    ``efficientnet_lite0``
=====================  =====  =============================  =====  =====================

Values are in pixel units (0..255 before the mean is subtracted), divided by ``std``. Each
mode also has its resize: ``stretch`` (S5: bilinear to size×size) for the slim and Caffe
nets, ``crop_0.875`` (bicubic, short side to size / 0.875, central size×size crop: the
EfficientNet evaluation crop) for EfficientNet-Lite0; that mode's scaling and crop were
chosen by measurement (``benchmarks/efficientnet_preprocessing.py``: top-1 0.867 on the 210
shared images, ImageNet mean/std 0.729, [0, 1] 0.800, stretch 0.790). Every zoo model
records its mode as ``model.preprocessing`` (and :data:`MODEL_PREPROCESSING` keys it by
model name). Pass the model itself as ``mode`` (``load_image(path, mode=model)``) and
the right order, means, scale, resize and input size are used; the Caffe net also has a
227×227 input, so an image prepared for the 224×224 slim nets does not fit it.

Images of any bit depth are read as 0..255 RGB: 16-bit PNG/TIFF greyscale (PIL modes
``I;16*``, and ``I`` from a PNG) are divided by 257 (65535 → 255), other 32-bit integer
images by the smallest of 2⁸ − 1, 2¹⁶ − 1, 2³² − 1 that holds their maximum, float
images (``F``) in [0, 1] are multiplied by 255; 16-bit RGB(A) PNGs keep PIL's high byte.
Unreadable files raise ``ValueError`` whose message starts with the file path.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from dance_tf.models import registry

#: Default size of the slim nets; the Caffe AlexNet takes 227 (S5).
SLIM_SIZE = 224
CAFFE_SIZE = 227


@dataclass(frozen=True)
class Mode:
    """Channel order, per-channel means and divisors (in that order, pixel units 0..255)
    and the default resize of :func:`load_image`."""

    name: str
    order: str  # "RGB" or "BGR"
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: str = "stretch"


MODES = {
    "slim_rgb": Mode("slim_rgb", "RGB", (123.68, 116.78, 103.94)),
    "caffe_bgr": Mode("caffe_bgr", "BGR", (103.939, 116.779, 123.68)),
    "efficientnet_lite": Mode("efficientnet_lite", "RGB", (127.0, 127.0, 127.0),
                              (128.0, 128.0, 128.0), "crop_0.875"),
}
RESIZES = ("stretch", "center_crop", "crop_0.875")

#: Preprocessing mode by zoo model name (used when a model has no ``preprocessing``), as
#: the model registry (``dance_tf.models.registry``) declares it.
MODEL_PREPROCESSING = {e.name: e.preprocessing for e in registry.entries() if e.preprocessing}

_PACKAGE_CLASSES = "imagenet_1000_classes.csv"


def _model_size(model) -> int | None:
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 4 and shape[1] == shape[2]:
        return shape[1]
    return None


def get_mode(mode="slim_rgb") -> Mode:
    """Resolve ``mode``: a name in :data:`MODES`, a :class:`Mode`, or a Keras model
    (its ``preprocessing`` attribute, else :data:`MODEL_PREPROCESSING` by name)."""
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        if mode not in MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; known: {sorted(MODES)}")
        return MODES[mode]
    name = getattr(mode, "preprocessing", None) or MODEL_PREPROCESSING.get(
        getattr(mode, "name", None))
    if name is None:
        raise ValueError(
            f"model {getattr(mode, 'name', mode)!r} carries no preprocessing mode: set "
            f"model.preprocessing to one of {sorted(MODES)}")
    return get_mode(name)


def _declared_size(path: str) -> tuple[int, int] | None:
    """Width and height a PNG header declares (PIL refuses to open 0-sized PNGs)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return None


def _png_bits(img, path: str) -> int | None:
    """Bits per sample a PNG header declares (None for other formats)."""
    if img.format != "PNG":
        return None
    with open(path, "rb") as fh:
        head = fh.read(25)
    return head[24] if len(head) == 25 and head[12:16] == b"IHDR" else None


def _high_depth_to_uint8(img, path: str) -> np.ndarray:
    """One-channel images of more than 8 bits (PIL modes ``I;16*``, ``I``, ``F``) →
    uint8 (H, W), scaled by the range the file's bit depth allows."""
    mode = img.mode
    values = np.asarray(img)
    if mode.startswith("I;16"):
        return np.rint(values.astype(np.float64) / 257.0).astype(np.uint8)
    if mode == "I":
        values = values.astype(np.float64)
        if values.size and values.min() < 0:
            raise ValueError(f"{path}: 32-bit integer image with negative values "
                             f"(min {values.min():g}); cannot tell its intensity scale")
        bits = _png_bits(img, path)
        if bits is None:  # a 32-bit container (TIFF): the smallest depth holding the data
            peak = values.max() if values.size else 0
            bits = 8 if peak <= 255 else 16 if peak <= 65535 else 32
        return np.rint(values * (255.0 / (2.0 ** bits - 1))).astype(np.uint8)
    # "F": 32-bit float samples
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: floating-point image with NaN or infinite values")
    lo, hi = (values.min(), values.max()) if values.size else (0.0, 0.0)
    if lo < 0 or hi > 255:
        raise ValueError(f"{path}: floating-point image with values in [{lo:g}, {hi:g}]; "
                         "expected [0, 1] or [0, 255]")
    scale = 255.0 if hi <= 1.0 else 1.0
    return np.rint(values * scale).astype(np.uint8)


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode a JPEG/PNG/TIFF (any PIL format) to uint8 RGB ``(H, W, 3)``.

    Greyscale, palette and CMYK images are converted to RGB; an alpha channel is
    dropped (the colour values are kept, as Caffe/OpenCV readers do). High bit depths are
    scaled to 0..255 (module docstring): a 16-bit greyscale PNG of value v gives v / 257.

    Raises FileNotFoundError (no such file), or ValueError for anything unreadable (not an
    image, empty, zero-sized, truncated or corrupt, a float image of unknown scale); both
    messages start with the file path.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        if os.path.getsize(path) == 0:
            raise ValueError(f"{path}: image file is empty (0 bytes)")
        declared = _declared_size(path)
        if declared is not None and 0 in declared:
            raise ValueError(f"{path}: image has zero size {declared}")
        with Image.open(path) as img:
            if img.width == 0 or img.height == 0:
                raise ValueError(f"{path}: image has zero size {img.size}")
            img.load()
            if img.mode.startswith("I") or img.mode == "F":
                grey = _high_depth_to_uint8(img, path)
                arr = np.repeat(grey[..., None], 3, axis=-1)
            else:
                if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency"
                                                        in img.info):
                    img = img.convert("RGBA").convert("RGB")
                else:
                    img = img.convert("RGB")
                arr = np.asarray(img, dtype=np.uint8)
    except UnidentifiedImageError as err:
        raise ValueError(f"{path}: not an image file PIL can read") from err
    except ValueError as err:
        if str(err).startswith(path):
            raise
        raise ValueError(f"{path}: cannot decode image (corrupt?): {err}") from err
    except (OSError, SyntaxError, EOFError, MemoryError) as err:
        raise ValueError(f"{path}: cannot decode image (truncated or corrupt?): {err}") \
            from err
    except Image.DecompressionBombError as err:
        raise ValueError(f"{path}: image too large to decode safely: {err}") from err
    if arr.ndim != 3 or arr.shape[-1] != 3 or arr.size == 0:
        raise ValueError(f"{path}: image decodes to shape {arr.shape}, not (H, W, 3)")
    return arr


def _resize(rgb: np.ndarray, size: int, resize: str) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(rgb)
    if resize == "stretch":
        img = img.resize((size, size), Image.BILINEAR)
    elif resize in ("center_crop", "crop_0.875"):
        short, method = ((size, Image.BILINEAR) if resize == "center_crop"
                         else (round(size / 0.875), Image.BICUBIC))
        w, h = img.size
        scale = short / min(w, h)
        img = img.resize((max(short, round(w * scale)), max(short, round(h * scale))),
                         method)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    else:
        raise ValueError(f"resize: expected one of {RESIZES}, got {resize!r}")
    return np.asarray(img, dtype=np.uint8)


def preprocess(rgb, mode="slim_rgb") -> np.ndarray:
    """RGB pixels ``(..., 3)`` in 0..255 → float32 model input: channels reordered to
    the mode's order, means subtracted, divided by the mode's std (S5)."""
    m = get_mode(mode)
    x = np.asarray(rgb, dtype=np.float32)
    if x.shape[-1] != 3:
        raise ValueError(f"expected RGB pixels with 3 channels last, got shape {x.shape}")
    if m.order == "BGR":
        x = x[..., ::-1]
    x = x - np.asarray(m.mean, dtype=np.float32)
    if m.std != (1.0, 1.0, 1.0):
        x = x / np.asarray(m.std, dtype=np.float32)
    return x


def deprocess(x, mode="slim_rgb") -> np.ndarray:
    """Inverse of :func:`preprocess` for display: uint8 RGB ``(..., 3)``, clipped."""
    m = get_mode(mode)
    x = np.asarray(x, dtype=np.float32) * np.asarray(m.std, dtype=np.float32) \
        + np.asarray(m.mean, dtype=np.float32)
    if m.order == "BGR":
        x = x[..., ::-1]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def load_image(path, size: int | None = SLIM_SIZE, mode="slim_rgb",
               resize: str | None = None) -> np.ndarray:
    """Read, resize and preprocess one image: float32 ``(size, size, 3)`` (S5).

    Parameters
    ----------
    path : JPEG/PNG file (greyscale, 16-bit and RGBA are converted to 8-bit RGB).
    size : side in pixels (224 for slim nets and EfficientNet-Lite0, 227 for the Caffe
        AlexNet). When ``mode`` is a model, the default (or ``None``) means the model's
        own input size and any other size is an error.
    mode : ``"slim_rgb"`` (default), ``"caffe_bgr"``, ``"efficientnet_lite"``, or a model
        that carries one.
    resize : ``"stretch"`` (S5: resize to size×size, bilinear), ``"center_crop"``
        (shorter side to ``size``, bilinear, then the central square) or ``"crop_0.875"``
        (shorter side to size / 0.875, bicubic, then the central square); default the
        mode's own (stretch for slim / Caffe, crop_0.875 for EfficientNet-Lite).
    """
    m = get_mode(mode)
    if not isinstance(mode, (str, Mode)):
        want = _model_size(mode)
        if size is None or (size == SLIM_SIZE and want is not None):
            size = want
        if want is not None and size != want:
            raise ValueError(f"model {mode.name!r} takes {want}x{want} inputs, not {size}")
    if size is None or int(size) < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    return preprocess(_resize(read_rgb(path), int(size), resize or m.resize), m)


def value_range(mode="slim_rgb") -> tuple[np.ndarray, np.ndarray]:
    """Legal input range per channel ``(x_min, x_max)``, each float32 ``(3,)`` in the
    mode's channel order: ``[-mean, 255 - mean] / std`` (S1.2: the decoy box)."""
    m = get_mode(mode)
    mean = np.asarray(m.mean, dtype=np.float32)
    std = np.asarray(m.std, dtype=np.float32)
    return -mean / std, (np.float32(255.0) - mean) / std


@dataclass(frozen=True)
class ClassTable:
    """ImageNet class index ↔ wnid ↔ name (indices 0..999, Keras/slim 1000-class order)."""

    wnids: tuple[str, ...]
    names: tuple[str, ...]

    def name(self, index: int, num_classes: int = 1000) -> str:
        """Class name of logit ``index``; with ``num_classes=1001`` index 0 is background."""
        index = int(index)
        if num_classes == 1001:
            if index == 0:
                return "background"
            index -= 1
        elif num_classes != 1000:
            raise ValueError(f"num_classes must be 1000 or 1001, got {num_classes}")
        if not 0 <= index < len(self.names):
            raise IndexError(f"class index {index} outside 0..{len(self.names) - 1}")
        return self.names[index]

    def index(self, key: str, num_classes: int = 1000) -> int:
        """Logit index of a class name or wnid (+1 for 1001-class nets)."""
        for table in (self.wnids, self.names):
            if key in table:
                return table.index(key) + (1 if num_classes == 1001 else 0)
        raise KeyError(f"no ImageNet class named {key!r}")


def load_class_table(path: str | os.PathLike | None = None) -> ClassTable:
    """Read a class CSV with columns ``class_index, wnid, class_name`` (others ignored);
    default the copy shipped in the package (``imagenet_1000_classes.csv``)."""
    if path is None:
        text = resources.files("dance_tf.data").joinpath(_PACKAGE_CLASSES).read_text("utf-8")
        rows = list(csv.DictReader(text.splitlines()))
    else:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    missing = {"class_index", "wnid", "class_name"} - set(rows[0] if rows else ())
    if missing:
        raise ValueError(f"class table {path!r} lacks columns {sorted(missing)}")
    rows.sort(key=lambda r: int(r["class_index"]))
    if [int(r["class_index"]) for r in rows] != list(range(len(rows))):
        raise ValueError(f"class table {path!r}: class_index is not 0..{len(rows) - 1}")
    return ClassTable(tuple(r["wnid"] for r in rows), tuple(r["class_name"] for r in rows))


__all__ = ["MODES", "RESIZES", "MODEL_PREPROCESSING", "Mode", "get_mode", "read_rgb", "preprocess",
           "deprocess", "load_image", "value_range", "ClassTable", "load_class_table",
           "SLIM_SIZE", "CAFFE_SIZE"]
