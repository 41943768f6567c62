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

Images of any bit depth are read as 0..255 RGB (the rules live in
:mod:`dance_tf.data.images`, shared with the CLI): 16-bit PNG/TIFF greyscale (PIL modes
``I;16*``, and ``I`` from a PNG) are divided by 257 (65535 → 255), other 32-bit integer
images by the smallest of 2⁸ − 1, 2¹⁶ − 1 that holds their maximum and above that by the
full 32-bit range of their sample type, float images (``F``) in [0, 1] are multiplied by
255; 16-bit RGB(A) PNGs keep PIL's high byte. Unreadable files raise ``ValueError`` whose
message starts with the file path.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from dance_tf.data import images
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


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode a JPEG/PNG/TIFF (any PIL format) to uint8 RGB ``(H, W, 3)``.

    Greyscale, palette and CMYK images are converted to RGB; an alpha channel is
    dropped (the colour values are kept, as Caffe/OpenCV readers do) unless the picture is
    drawn only in it (refused). High bit depths are scaled to 0..255 by
    :mod:`dance_tf.data.images`: a 16-bit greyscale PNG of value v gives v / 257.

    Raises FileNotFoundError (no such file), or ValueError (``InputError``) for anything
    unreadable (not an image, empty, zero-sized, truncated or corrupt, too large, a float
    image of unknown scale, a picture only in its alpha channel); both messages start
    with the file path.
    """
    path = os.fspath(path)
    with images.open_image(path) as img:
        flat = images.eight_bit(img, path)
        if flat.mode in images.ALPHA_MODES or (flat.mode == "P" and "transparency"
                                               in flat.info):
            flat = flat.convert("RGBA")
        arr = np.asarray(flat.convert("RGB"), dtype=np.uint8)
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
