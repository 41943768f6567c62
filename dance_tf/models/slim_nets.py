"""TF-slim ImageNet nets as Keras 3 functional models (S5, S7).

``vgg_16``, ``alexnet_v2`` and ``resnet_v1_50`` rebuild the graphs of
``tf_slim.nets`` (the definitions behind the checkpoints published in
tensorflow/models ``research/slim``) layer for layer, channels-last, so that a slim
checkpoint loaded with :func:`dance_tf.models.load_slim_checkpoint` gives slim's logits.

Naming. Keras 3 forbids ``/`` in layer names, so a slim scope ``a/b/c`` becomes the
layer name ``a.b.c`` (the model's own scope, e.g. ``vgg_16``, is the model name and is
dropped). **The layer called like a slim end point outputs exactly that end point**
(after the ReLU where slim applies one). Where slim's end point is the last of several
ops, the ops before it are named after slim's op names: ``X.Pad`` (explicit padding),
``X.Conv2D`` (convolution), ``X.BatchNorm`` (batch norm), and ``X`` itself is the
ReLU (or an identity when slim has no activation there).

Layer index ℓ (Table S1). The core counts convolution, pooling and dense layers in
topological order, 1-based. Slim's fully connected layers are convolutions (Conv2D,
counted, as in slim). ReLUs, paddings, batch norms, dropouts, squeezes and the resnet
shortcut subsampling (a strided slice, :class:`Subsample2D`) are other layer classes
and are not counted. Inside a resnet unit Keras orders the shortcut and residual
branches its own way, so beyond Table S1's ℓ = 2 choose resnet layers by name.

Every model outputs logits ``(N, num_classes)`` for ``(N, 224, 224, 3)`` inputs
preprocessed with mode ``"slim_rgb"`` (RGB minus [123.68, 116.78, 103.94], slim's
``vgg_preprocessing``); the mode is stored as ``model.preprocessing``. Use
:func:`with_softmax` for probabilities. All layers run in inference mode by default
(dropout off, batch norm on its moving statistics).
"""

from __future__ import annotations

import keras

#: Preprocessing mode of every slim net (see :mod:`dance_tf.data.imagenet`).
SLIM_PREPROCESSING = "slim_rgb"

#: Input side length of the slim nets (``default_image_size`` in tf_slim.nets).
SLIM_IMAGE_SIZE = 224

#: Table S1 layer index ℓ and the slim end point it selects, per net.
TABLE_S1_LAYER = {
    "vgg_16": (3, "pool1"),
    "alexnet_v2": (6, "conv4"),
    "resnet_v1_50": (2, "pool1"),
}

# resnet_arg_scope's batch-norm epsilon (S5: slim defaults).
_BN_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="dance_tf")
class Subsample2D(keras.layers.Layer):
    """Keep every ``factor``-th row and column, from the first: ``x[:, ::f, ::f, :]``.

    Slim's ``resnet_utils.subsample`` (a 1×1 max-pool of stride ``factor``) on an
    identity shortcut. A plain layer, not a pooling layer, so the Table S1 count
    skips it.
    """

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, inputs):
        return inputs[:, :: self.factor, :: self.factor, :]

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        f = self.factor
        return (n, None if h is None else -(-h // f), None if w is None else -(-w // f), c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _check_classes(num_classes: int) -> int:
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    return int(num_classes)


def _fc_head(net, kernel: int, num_classes: int):
    """slim's fully convolutional head: fc6 (kernel × kernel, 4096), dropout, fc7 (1 × 1,
    4096), dropout, fc8 (1 × 1, classes)."""
    L = keras.layers
    net = L.Conv2D(4096, kernel, padding="valid", activation="relu", name="fc6")(net)
    net = L.Dropout(0.5, name="dropout6")(net)
    net = L.Conv2D(4096, 1, activation="relu", name="fc7")(net)
    net = L.Dropout(0.5, name="dropout7")(net)
    return L.Conv2D(num_classes, 1, name="fc8")(net)


def _finish(inputs, net, num_classes: int, logits_scope: str, name: str) -> keras.Model:
    """Squeeze the (N, 1, 1, C) logits to (N, C) and tag the model's preprocessing."""
    logits = keras.layers.Reshape((num_classes,), name=f"{logits_scope}.squeezed")(net)
    model = keras.Model(inputs, logits, name=name)
    model.preprocessing = SLIM_PREPROCESSING
    return model


def vgg_16(num_classes: int = 1000) -> keras.Model:
    """Slim ``vgg_16`` (VGG-D): 13 conv3×3 + 5 max-pools + fc6/fc7/fc8 as convolutions.

    Input ``(N, 224, 224, 3)`` float32, mode ``"slim_rgb"``; output logits
    ``(N, num_classes)`` (1000 for the published checkpoint, 1001 with background).

    Layer names: ``conv1.conv1_1`` … ``conv5.conv5_3`` (Conv2D + ReLU, SAME),
    ``pool1`` … ``pool5`` (2×2/2 VALID), ``fc6`` (7×7 VALID), ``dropout6``, ``fc7``,
    ``dropout7``, ``fc8`` (1×1, no ReLU, ``(N, 1, 1, C)``), ``fc8.squeezed``.

    Table S1, ℓ = 3: the counted layers are conv1_1 (1), conv1_2 (2), pool1 (3), so
    ℓ = 3 is ``pool1`` (slim end point ``vgg_16/pool1``, 112×112×64).
    """
    num_classes = _check_classes(num_classes)
    L = keras.layers
    inputs = keras.Input((SLIM_IMAGE_SIZE, SLIM_IMAGE_SIZE, 3), name="images")
    net = inputs
    for block, (reps, width) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)), 1):
        for i in range(1, reps + 1):
            net = L.Conv2D(width, 3, padding="same", activation="relu",
                           name=f"conv{block}.conv{block}_{i}")(net)
        net = L.MaxPooling2D(2, 2, padding="valid", name=f"pool{block}")(net)
    return _finish(inputs, _fc_head(net, 7, num_classes), num_classes, "fc8", "vgg_16")


def alexnet_v2(num_classes: int = 1000) -> keras.Model:
    """Slim ``alexnet_v2`` (Krizhevsky 2014, one tower, no LRN), for 224×224 inputs.

    Input ``(N, 224, 224, 3)`` float32, mode ``"slim_rgb"`` (no published checkpoint
    exists: users bring their own; change ``model.preprocessing`` if theirs was
    trained otherwise). Output logits ``(N, num_classes)``.

    Layers: ``conv1`` (11×11/4 VALID, 64), ``pool1`` (3×3/2 VALID), ``conv2`` (5×5,
    192), ``pool2``, ``conv3`` (384), ``conv4`` (384), ``conv5`` (256), ``pool5``,
    ``fc6`` (5×5 VALID, 4096), ``dropout6``, ``fc7``, ``dropout7``, ``fc8``,
    ``fc8.squeezed``; every conv but fc8 has its ReLU built in.

    Table S1, ℓ = 6: conv1 (1), pool1 (2), conv2 (3), pool2 (4), conv3 (5), conv4 (6),
    so ℓ = 6 is ``conv4`` (slim end point ``alexnet_v2/conv4``, 12×12×384) — the same
    position as in the Caffe AlexNet, whose LRN layers are not counted.
    """
    num_classes = _check_classes(num_classes)
    L = keras.layers
    inputs = keras.Input((SLIM_IMAGE_SIZE, SLIM_IMAGE_SIZE, 3), name="images")
    net = L.Conv2D(64, 11, strides=4, padding="valid", activation="relu", name="conv1")(inputs)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool1")(net)
    net = L.Conv2D(192, 5, padding="same", activation="relu", name="conv2")(net)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool2")(net)
    net = L.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(net)
    net = L.Conv2D(384, 3, padding="same", activation="relu", name="conv4")(net)
    net = L.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(net)
    net = L.MaxPooling2D(3, 2, padding="valid", name="pool5")(net)
    return _finish(inputs, _fc_head(net, 5, num_classes), num_classes, "fc8", "alexnet_v2")


def _conv_bn(net, filters: int, kernel: int, stride: int, scope: str, relu: bool = True):
    """Slim ``conv2d`` under ``resnet_arg_scope``: conv (no bias) → BN → ReLU.

    A strided 3×3/7×7 conv is slim's ``conv2d_same``: explicit symmetric zero padding
    (``X.Pad``) and a VALID convolution; otherwise SAME. The layer named ``scope``
    outputs slim's end point (ReLU output, or BN output when ``relu`` is False).
    """
    L = keras.layers
    padding = "same"
    if stride > 1 and kernel > 1:
        total = kernel - 1
        net = L.ZeroPadding2D(((total // 2, total - total // 2),) * 2, name=f"{scope}.Pad")(net)
        padding = "valid"
    net = L.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False,
                   name=f"{scope}.Conv2D")(net)
    net = L.BatchNormalization(epsilon=_BN_EPSILON, name=f"{scope}.BatchNorm")(net)
    if relu:
        return L.ReLU(name=scope)(net)
    return L.Identity(name=scope)(net)


def _bottleneck(net, depth: int, depth_bottleneck: int, stride: int, scope: str):
    """Slim ``resnet_v1.bottleneck`` (BN after convolutions), output ReLU named ``scope``."""
    L = keras.layers
    if net.shape[-1] == depth:
        shortcut = net if stride == 1 else Subsample2D(stride, name=f"{scope}.shortcut")(net)
    else:
        shortcut = _conv_bn(net, depth, 1, stride, f"{scope}.shortcut", relu=False)
    residual = _conv_bn(net, depth_bottleneck, 1, 1, f"{scope}.conv1")
    residual = _conv_bn(residual, depth_bottleneck, 3, stride, f"{scope}.conv2")
    residual = _conv_bn(residual, depth, 1, 1, f"{scope}.conv3", relu=False)
    net = L.Add(name=f"{scope}.add")([shortcut, residual])
    return L.ReLU(name=scope)(net)


def resnet_v1_50(num_classes: int = 1000) -> keras.Model:
    """Slim ``resnet_v1_50`` (He et al. 2016, v1 bottlenecks, BN epsilon 1e-5).

    Input ``(N, 224, 224, 3)`` float32, mode ``"slim_rgb"``; output logits
    ``(N, num_classes)`` (the published ``resnet_v1_50_2016_08_28`` has 1000).

    Slim's details kept: ``conv1`` is 7×7/2 with explicit padding 3/3 (``conv1.Pad``)
    and VALID; ``pool1`` is 3×3/2 **SAME**; blocks 1–3 put their stride 2 in their last
    unit (3×3 conv2 padded explicitly, identity shortcut subsampled 1×1/2); block 4
    has stride 1; ``pool5`` is the spatial mean; ``logits`` a 1×1 conv with bias.
    Unit output names: ``block{b}.unit_{u}.bottleneck_v1``; ``block{b}`` (identity)
    is the block's end point.

    Table S1, ℓ = 2: ``conv1.Conv2D`` (1), ``pool1`` (2), so ℓ = 2 is ``pool1`` (slim
    end point ``resnet_v1_50/pool1``, 56×56×64). Note ℓ = 1 is the convolution before
    its batch norm; slim's end point ``conv1`` (after BN and ReLU) is the layer
    ``conv1``.
    """
    num_classes = _check_classes(num_classes)
    L = keras.layers
    inputs = keras.Input((SLIM_IMAGE_SIZE, SLIM_IMAGE_SIZE, 3), name="images")
    net = _conv_bn(inputs, 64, 7, 2, "conv1")
    net = L.MaxPooling2D(3, 2, padding="same", name="pool1")(net)
    for block, (base, units, stride) in enumerate(
        ((64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1)), 1
    ):
        for unit in range(1, units + 1):
            net = _bottleneck(net, base * 4, base, stride if unit == units else 1,
                              f"block{block}.unit_{unit}.bottleneck_v1")
        net = L.Identity(name=f"block{block}")(net)
    net = L.GlobalAveragePooling2D(keepdims=True, name="pool5")(net)
    net = L.Conv2D(num_classes, 1, name="logits")(net)
    return _finish(inputs, net, num_classes, "logits", "resnet_v1_50")


def with_softmax(model: keras.Model) -> keras.Model:
    """Wrap a logits model: returns a model ``(N, H, W, C) -> (N, classes)`` of softmax
    probabilities (slim's ``predictions`` end point), sharing the weights."""
    probs = keras.layers.Softmax(name="predictions")(model.outputs[0])
    wrapped = keras.Model(model.inputs[0], probs, name=f"{model.name}_softmax")
    if hasattr(model, "preprocessing"):
        wrapped.preprocessing = model.preprocessing
    return wrapped


def end_point(model: keras.Model, name: str) -> keras.Model:
    """Sub-model from the input to the layer named after slim end point ``name``.

    ``name`` in slim spelling (``vgg_16/pool1``, ``vgg_16/conv1/conv1_2``) or Keras
    spelling (``pool1``, ``conv1.conv1_2``). Output shape as that end point (slim's
    ``fc8`` end point is the squeezed ``fc8.squeezed`` here).
    """
    key = name
    if key.startswith(model.name + "/"):
        key = key[len(model.name) + 1:]
    key = key.replace("/", ".")
    if key in ("fc8", "logits"):
        key += ".squeezed"
    try:
        layer = model.get_layer(key)
    except ValueError as err:
        raise ValueError(f"{model.name} has no end point {name!r} (layer {key!r})") from err
    return keras.Model(model.inputs[0], layer.output, name=f"{model.name}_{key}")


__all__ = ["Subsample2D", "vgg_16", "alexnet_v2", "resnet_v1_50", "with_softmax", "end_point",
           "TABLE_S1_LAYER", "SLIM_PREPROCESSING", "SLIM_IMAGE_SIZE"]
