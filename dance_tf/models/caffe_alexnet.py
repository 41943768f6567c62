"""The Caffe AlexNet of the paper (S5, S7): ``bvlc_alexnet.npy`` weights in Keras 3.

The paper cites the weights converted from Caffe's ``bvlc_alexnet`` by M. Guerzhoy
(http://www.cs.toronto.edu/~guerzhoy/tf_alexnet/). This builder follows that page's
TensorFlow forward pass (``myalexnet_forward``), which is what the weights were used
with: 227×227 BGR inputs minus [103.939, 116.779, 123.68] (mode ``"caffe_bgr"``);
conv1 11×11/4 **SAME** (57×57), ReLU, LRN, max-pool 3×3/2 VALID; conv2 5×5 in two
groups, ReLU, LRN, pool; conv3; conv4 and conv5 in two groups; pool5 (6×6×256);
fc6/fc7 (ReLU) and fc8 (logits) as dense layers on the NHWC-flattened pool5.
LRN: depth radius 2, alpha 2e-5 (Caffe's 1e-4 / 5), beta 0.75, bias 1.

The weights file is a pickled ``dict`` ``{layer: [W, b]}`` (W in HWIO layout, the
grouped layers holding ``in/2`` input channels). Unpickling runs code from the file, so
every function that opens it — :func:`read_caffe_alexnet`, :func:`load_caffe_alexnet` and
the one-time conversion :func:`convert_caffe_alexnet` — unpickles only when the caller
passes ``allow_pickle=True``. The conversion writes a pickle-free ``.npz`` that
:func:`load_caffe_alexnet` then reads without that flag.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import keras
import numpy as np
import tensorflow as tf

#: Preprocessing mode (see :mod:`dance_tf.data.imagenet`) and input side (S5).
CAFFE_PREPROCESSING = "caffe_bgr"
CAFFE_IMAGE_SIZE = 227

#: Layers of bvlc_alexnet.npy with (kernel or matrix shape, bias shape).
WEIGHT_SHAPES = {
    "conv1": ((11, 11, 3, 96), (96,)),
    "conv2": ((5, 5, 48, 256), (256,)),
    "conv3": ((3, 3, 256, 384), (384,)),
    "conv4": ((3, 3, 192, 384), (384,)),
    "conv5": ((3, 3, 192, 256), (256,)),
    "fc6": ((9216, 4096), (4096,)),
    "fc7": ((4096, 4096), (4096,)),
    "fc8": ((4096, 1000), (1000,)),
}

LRN_PARAMS = {"depth_radius": 2, "alpha": 2e-5, "beta": 0.75, "bias": 1.0}


@keras.saving.register_keras_serializable(package="dance_tf")
class LocalResponseNormalization(keras.layers.Layer):
    """Across-channel LRN, ``x / (bias + alpha * Σ_{|j-c|≤r} x_j²)^beta`` (Caffe/TF).

    Shape-preserving, channels last; not a conv/pool layer, so the Table S1 count
    skips it.
    """

    def __init__(self, depth_radius=2, alpha=2e-5, beta=0.75, bias=1.0, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.alpha = int(depth_radius), float(alpha)
        self.beta, self.bias = float(beta), float(bias)

    def call(self, inputs):
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.depth_radius, alpha=self.alpha, beta=self.beta,
            bias=self.bias)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius,
                "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


def caffe_alexnet(*, conv1_padding: str = "same") -> keras.Model:
    """Build the Caffe AlexNet: input ``(N, 227, 227, 3)`` BGR minus means, logits
    ``(N, 1000)`` (S5).

    ``conv1_padding="same"`` (default) is Guerzhoy's TensorFlow forward pass, the one
    the paper links (conv1 57×57); ``"valid"`` is Caffe's original definition (55×55).
    Both reach 6×6×256 at pool5, so the same weights fit either.

    Layers: ``conv1``, ``norm1`` (LRN), ``pool1``, ``conv2`` (2 groups), ``norm2``,
    ``pool2``, ``conv3``, ``conv4`` (2 groups), ``conv5`` (2 groups), ``pool5``,
    ``flatten``, ``fc6``, ``fc7`` (Dense + ReLU), ``fc8`` (Dense, logits). The grouped
    convolutions are Keras ``Conv2D(groups=2)``, whose kernel layout equals the file's.

    Table S1, ℓ = 6: conv1 (1), pool1 (2), conv2 (3), pool2 (4), conv3 (5), conv4 (6);
    ℓ = 6 is ``conv4`` (13×13×384, after ReLU). ``model.preprocessing`` is
    ``"caffe_bgr"``.
    """
    if conv1_padding not in ("same", "valid"):
        raise ValueError(f"conv1_padding must be 'same' or 'valid', got {conv1_padding!r}")
    L = keras.layers
    inputs = keras.Input((CAFFE_IMAGE_SIZE, CAFFE_IMAGE_SIZE, 3), name="bgr_images")
    net = L.Conv2D(96, 11, strides=4, padding=conv1_padding, activation="relu",
                   name="conv1")(inputs)
    net = LocalResponseNormalization(**LRN_PARAMS, name="norm1")(net)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool1")(net)
    net = L.Conv2D(256, 5, padding="same", groups=2, activation="relu", name="conv2")(net)
    net = LocalResponseNormalization(**LRN_PARAMS, name="norm2")(net)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool2")(net)
    net = L.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(net)
    net = L.Conv2D(384, 3, padding="same", groups=2, activation="relu", name="conv4")(net)
    net = L.Conv2D(256, 3, padding="same", groups=2, activation="relu", name="conv5")(net)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool5")(net)
    net = L.Flatten(name="flatten")(net)
    net = L.Dense(4096, activation="relu", name="fc6")(net)
    net = L.Dense(4096, activation="relu", name="fc7")(net)
    logits = L.Dense(1000, name="fc8")(net)
    model = keras.Model(inputs, logits, name="caffe_alexnet")
    model.preprocessing = CAFFE_PREPROCESSING
    return model


def _from_pickle(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    raw = np.load(path, allow_pickle=True, encoding="latin1")
    obj = raw.item() if isinstance(raw, np.ndarray) and raw.dtype == object else raw
    if not isinstance(obj, dict):
        raise ValueError(f"{path!r} does not hold a dict of layers (got {type(obj).__name__})")
    out = {}
    for key, value in obj.items():
        key = key.decode() if isinstance(key, bytes) else str(key)
        if isinstance(value, dict):  # some conversions store {"weights": W, "biases": b}
            value = [value.get("weights", value.get(b"weights")),
                     value.get("biases", value.get(b"biases"))]
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(f"{path!r}: layer {key!r} is not a [weights, biases] pair")
        out[key] = (np.asarray(value[0]), np.asarray(value[1]))
    return out


def _from_npz(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with np.load(path, allow_pickle=False) as data:
        names = sorted({k.rsplit("/", 1)[0] for k in data.files})
        try:
            return {n: (data[f"{n}/weights"], data[f"{n}/biases"]) for n in names}
        except KeyError as err:
            raise ValueError(f"{path!r}: expected '<layer>/weights' and '<layer>/biases' "
                             f"arrays, got {data.files}") from err


def read_caffe_alexnet(path, allow_pickle: bool = False) -> dict[str, tuple]:
    """Read the AlexNet weights as ``{layer: (W, b)}`` from ``.npz`` (pickle-free) or the
    original pickled ``bvlc_alexnet.npy`` (only with ``allow_pickle=True``: unpickling
    runs code from the file — use files you trust)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no AlexNet weights file at {path!r}")
    if zipfile.is_zipfile(path):
        return _from_npz(path)
    if not allow_pickle:
        raise ValueError(
            f"{path!r} is a pickled .npy (bvlc_alexnet.npy format) and unpickling runs code "
            "stored in the file. Only for a file you trust: pass allow_pickle=True, or "
            "convert it once with convert_caffe_alexnet(src, dst, allow_pickle=True) (which "
            "unpickles it the same way) and load the pickle-free .npz without the flag.")
    try:
        return _from_pickle(path)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError) as err:
        raise ValueError(f"cannot read AlexNet weights from {path!r}: {err}") from err


def convert_caffe_alexnet(src, dst, *, allow_pickle: bool = False) -> str:
    """One-time conversion of the pickled ``bvlc_alexnet.npy`` to a pickle-free ``.npz``
    with arrays ``<layer>/weights`` and ``<layer>/biases``; returns the written path.

    Reading ``src`` unpickles it (runs code stored in the file), so the caller must pass
    ``allow_pickle=True`` — only for a file they trust; an ``.npz`` source needs no flag.
    ``dst`` gets a ``.npz`` suffix if it has none; an existing ``dst`` is never written
    over (FileExistsError).
    """
    dst = os.fspath(dst)
    if not dst.endswith(".npz"):
        dst += ".npz"
    if os.path.lexists(dst):
        raise FileExistsError(f"{dst!r} already exists: convert_caffe_alexnet never writes "
                              "over a file; remove it or choose another dst")
    weights = read_caffe_alexnet(src, allow_pickle=allow_pickle)
    _check(weights)
    arrays = {}
    for name, (w, b) in weights.items():
        arrays[f"{name}/weights"], arrays[f"{name}/biases"] = w, b
    with open(dst, "xb") as handle:   # "x": a file created meanwhile is not replaced
        np.savez(handle, **arrays)
    return dst


def _check(weights: dict) -> None:
    missing = sorted(set(WEIGHT_SHAPES) - set(weights))
    extra = sorted(set(weights) - set(WEIGHT_SHAPES))
    bad = [f"{n}: file {[list(np.shape(a)) for a in weights[n]]}, expected "
           f"{[list(s) for s in WEIGHT_SHAPES[n]]}"
           for n in WEIGHT_SHAPES if n in weights
           and tuple(np.shape(a) for a in weights[n]) != WEIGHT_SHAPES[n]]
    if missing or extra or bad:
        raise ValueError("AlexNet weights do not match bvlc_alexnet: "
                         f"missing {missing}, extra {extra}, mis-shaped {bad}")


def load_caffe_alexnet(model: keras.Model, path, allow_pickle: bool = False) -> keras.Model:
    """Fill a :func:`caffe_alexnet` model in place from ``bvlc_alexnet.npy`` (needs
    ``allow_pickle=True``) or its ``.npz`` conversion; all-or-nothing, returns ``model``.

    Raises FileNotFoundError, or ValueError for a pickled file without opt-in, an
    unreadable file, or missing/extra/mis-shaped layers (listed).
    """
    weights = read_caffe_alexnet(path, allow_pickle=allow_pickle)
    _check(weights)
    targets = []
    for name, (w, b) in weights.items():
        try:
            layer = model.get_layer(name)
        except ValueError as err:
            raise ValueError(f"model {model.name!r} has no layer {name!r}: not a "
                             "caffe_alexnet()?") from err
        shapes = [tuple(v.shape) for v in layer.weights]
        if shapes != [w.shape, b.shape]:
            raise ValueError(f"layer {name!r} of {model.name!r} holds {shapes}, the file "
                             f"{[w.shape, b.shape]}: not a caffe_alexnet()?")
        targets.append((layer, w, b))
    for layer, w, b in targets:
        layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    return model


__all__ = ["caffe_alexnet", "load_caffe_alexnet", "read_caffe_alexnet",
           "convert_caffe_alexnet", "LocalResponseNormalization", "WEIGHT_SHAPES",
           "CAFFE_PREPROCESSING", "CAFFE_IMAGE_SIZE"]
