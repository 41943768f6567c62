"""ImageNet input pipeline for the zoo models (S5).

Two preprocessing modes, one per family of weights:

==============  =====  ===========================  =========================================
mode            order  mean subtracted (that order)  used by
==============  =====  ===========================  =========================================
``slim_rgb``    RGB    [123.68, 116.78, 103.94]     slim ``vgg_16``, ``resnet_v1_50``,
                                                    ``alexnet_v2`` (slim's vgg_preprocessing)
``caffe_bgr``   BGR    [103.939, 116.779, 123.68]   ``caffe_alexnet`` (bvlc_alexnet.npy; S5)
==============  =====  ===========================  =========================================

Values are in pixel units (0..255 before the mean is subtracted). Every zoo model
records its mode as ``model.preprocessing`` (and :data:`MODEL_PREPROCESSING` keys it by
model name). Pass the model itself as ``mode`` (``load_image(path, mode=model)``) and
the right order, means and input size are used; the Caffe net also has a 227×227 input,
so an image prepared for the 224×224 slim nets does not fit it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

#: Default size of the slim nets; the Caffe AlexNet takes 227 (S5).
SLIM_SIZE = 224
CAFFE_SIZE = 227


@dataclass(frozen=True)
class Mode:
    """Channel order and per-channel means (in that order, pixel units 0..255)."""

    name: str
    order: str  # "RGB" or "BGR"
    mean: tuple[float, float, float]


MODES = {
    "slim_rgb": Mode("slim_rgb", "RGB", (123.68, 116.78, 103.94)),
    "caffe_bgr": Mode("caffe_bgr", "BGR", (103.939, 116.779, 123.68)),
}

#: Preprocessing mode by zoo model name (used when a model has no ``preprocessing``).
MODEL_PREPROCESSING = {
    "vgg_16": "slim_rgb",
    "alexnet_v2": "slim_rgb",
    "resnet_v1_50": "slim_rgb",
    "caffe_alexnet": "caffe_bgr",
}

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


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode a JPEG/PNG (any PIL format) to uint8 RGB ``(H, W, 3)``.

    Greyscale, palette and CMYK images are converted to RGB; an alpha channel is
    dropped (the colour values are kept, as Caffe/OpenCV readers do).

    Raises FileNotFoundError, or ValueError for a non-image or an empty image.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no image file at {path!r}")
    if os.path.getsize(path) == 0:
        raise ValueError(f"image file {path!r} is empty (0 bytes)")
    declared = _declared_size(path)
    if declared is not None and 0 in declared:
        raise ValueError(f"image {path!r} has zero size {declared}")
    try:
        with Image.open(path) as img:
            if img.width == 0 or img.height == 0:
                raise ValueError(f"image {path!r} has zero size {img.size}")
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency"
                                                    in img.info):
                img = img.convert("RGBA").convert("RGB")
            else:
                img = img.convert("RGB")
            arr = np.asarray(img, dtype=np.uint8)
    except UnidentifiedImageError as err:
        raise ValueError(f"{path!r} is not an image file PIL can read") from err
    except OSError as err:
        raise ValueError(f"cannot decode image {path!r} (truncated or corrupt?): {err}") from err
    if arr.size == 0:
        raise ValueError(f"image {path!r} has zero size {arr.shape}")
    return arr


def _resize(rgb: np.ndarray, size: int, resize: str) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(rgb)
    if resize == "stretch":
        img = img.resize((size, size), Image.BILINEAR)
    elif resize == "center_crop":
        w, h = img.size
        scale = size / min(w, h)
        img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))),
                         Image.BILINEAR)
        w, h = img.size
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    else:
        raise ValueError(f"resize must be 'stretch' or 'center_crop', got {resize!r}")
    return np.asarray(img, dtype=np.uint8)


def preprocess(rgb, mode="slim_rgb") -> np.ndarray:
    """RGB pixels ``(..., 3)`` in 0..255 → float32 model input: channels reordered to
    the mode's order, means subtracted (S5)."""
    m = get_mode(mode)
    x = np.asarray(rgb, dtype=np.float32)
    if x.shape[-1] != 3:
        raise ValueError(f"expected RGB pixels with 3 channels last, got shape {x.shape}")
    if m.order == "BGR":
        x = x[..., ::-1]
    return x - np.asarray(m.mean, dtype=np.float32)


def deprocess(x, mode="slim_rgb") -> np.ndarray:
    """Inverse of :func:`preprocess` for display: uint8 RGB ``(..., 3)``, clipped."""
    m = get_mode(mode)
    x = np.asarray(x, dtype=np.float32) + np.asarray(m.mean, dtype=np.float32)
    if m.order == "BGR":
        x = x[..., ::-1]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def load_image(path, size: int | None = SLIM_SIZE, mode="slim_rgb",
               resize: str = "stretch") -> np.ndarray:
    """Read, resize and preprocess one image: float32 ``(size, size, 3)`` (S5).

    Parameters
    ----------
    path : JPEG/PNG file (greyscale and RGBA are converted to RGB).
    size : side in pixels (224 for slim nets, 227 for the Caffe AlexNet). When ``mode``
        is a model, the default (or ``None``) means the model's own input size and any
        other size is an error.
    mode : ``"slim_rgb"`` (default), ``"caffe_bgr"``, or a zoo model.
    resize : ``"stretch"`` (S5: resize to size×size, bilinear) or ``"center_crop"``
        (shorter side to ``size``, then the central square).
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
    return preprocess(_resize(read_rgb(path), int(size), resize), m)


def value_range(mode="slim_rgb") -> tuple[np.ndarray, np.ndarray]:
    """Legal input range per channel ``(x_min, x_max)``, each float32 ``(3,)`` in the
    mode's channel order: ``[-mean, 255 - mean]`` (S1.2: the decoy box)."""
    mean = np.asarray(get_mode(mode).mean, dtype=np.float32)
    return -mean, np.float32(255.0) - mean


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


__all__ = ["MODES", "MODEL_PREPROCESSING", "Mode", "get_mode", "read_rgb", "preprocess",
           "deprocess", "load_image", "value_range", "ClassTable", "load_class_table",
           "SLIM_SIZE", "CAFFE_SIZE"]
