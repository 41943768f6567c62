"""Which Keras layers are local, which mix all positions (§3.2, S1.1).

A decoy changes x only inside its mask. Through a *local* layer (a convolution, a pooling
window, batch norm, an element-wise activation, padding, a sum of local branches, a dense
layer applied per position) that change stays near the mask, so a crop around the mask
computes layer ℓ exactly (``dance_tf.crops``) and layer ℓ still has the spatial (or token)
structure the paper relies on when it picks an early ℓ (Table S1). A *global* layer —
attention over all positions, global pooling, flatten, reshapes or normalisation over
space, recurrent layers — mixes every position. Anything this module does not know
(custom layers, ``Lambda``, a SavedModel's ``TFSMLayer``) is treated as global.

``kind(layer)`` returns one of ``LOCAL`` (crop-safe), ``TOKENS`` (keeps per-position
structure but changes the grid: an embedding, a patch embedding, a transposed
convolution, cropping, resizing), ``GLOBAL``, ``OPAQUE`` (a ``TFSMLayer``) or ``UNKNOWN``
(a ``Lambda`` or custom layer: never crop-safe; see ``blocks_default``).
"""

from __future__ import annotations

import keras
from keras import layers as kl

LOCAL, TOKENS, GLOBAL, OPAQUE, UNKNOWN = "local", "tokens", "global", "opaque", "unknown"
#: custom layers with these words in their class name mix positions (attention blocks)
_MIXING_WORDS = ("Attention", "Transformer", "Encoder", "Decoder", "Block", "Mixer", "RNN",
                 "LSTM", "GRU")

#: base classes (by name, anywhere in the MRO) of local layers
_LOCAL_BASES = {
    "BaseConv", "BaseDepthwiseConv", "BaseSeparableConv", "BasePooling", "InputLayer",
    "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Add", "Subtract", "Multiply",
    "Average", "Maximum", "Minimum", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling",
    "Normalization", "Identity", "ActivityRegularization",
}
#: keep per-position structure but not the input grid
_TOKEN_BASES = {"Embedding", "BaseConvTranspose", "Cropping1D", "Cropping2D", "Cropping3D",
                "UpSampling1D", "UpSampling2D", "UpSampling3D", "Resizing",
                "CenterCrop"}
#: custom layers known to embed image patches (keras_hub's ViT and friends)
_PATCH_EMBEDDINGS = ("PatchingAndEmbedding", "PatchEmbedding", "PatchEmbed")


def _bases(layer) -> set[str]:
    return {c.__name__ for c in type(layer).__mro__}


def _last_axis_only(axis) -> bool:
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return list(axes) == [-1]


#: ``keras.ops`` operations (in a functional graph) that act element-wise
_ELEMENTWISE_OPS = {"Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Negative",
                    "Abs", "Square", "Sqrt", "Exp", "Log", "Relu", "Relu6", "Sigmoid",
                    "Tanh", "Gelu", "Silu", "Elu", "Selu", "Softplus", "LeakyRelu",
                    "HardSigmoid", "HardSilu", "Cast", "Maximum", "Minimum", "Clip",
                    "Power", "Where", "Identity"}


def operations(model) -> list:
    """Every leaf operation of a Keras model in order — layers and the ``keras.ops`` calls
    of a functional graph — recursing into nested models."""
    ops = getattr(model, "_operations", None) or list(getattr(model, "layers", []))
    out = []
    for op in ops:
        if isinstance(op, keras.Model):
            out.extend(operations(op))
        else:
            out.append(op)
    return out


def all_local(model) -> bool:
    """Whether every operation of ``model`` (e.g. F_ℓ) is ``LOCAL``: crops are exact."""
    return all(kind(op) == LOCAL for op in operations(model))


def kind(layer) -> str:
    """``LOCAL``, ``TOKENS``, ``GLOBAL`` or ``OPAQUE`` for one leaf layer or ``keras.ops``
    operation (see module)."""
    if isinstance(layer, keras.layers.TFSMLayer):
        return OPAQUE
    if not isinstance(layer, keras.layers.Layer):
        return LOCAL if type(layer).__name__ in _ELEMENTWISE_OPS else GLOBAL
    bases = _bases(layer)
    if "BaseGlobalPooling" in bases:
        return GLOBAL
    if isinstance(layer, kl.Dense):
        return LOCAL if _per_position(layer) else GLOBAL
    if isinstance(layer, (kl.LayerNormalization, kl.UnitNormalization)):
        return LOCAL if _last_axis_only(layer.axis) else GLOBAL
    if isinstance(layer, kl.Concatenate):
        return LOCAL if layer.axis == -1 else GLOBAL
    if isinstance(layer, kl.Softmax):
        return LOCAL if _last_axis_only(layer.axis) else GLOBAL
    if bases & _LOCAL_BASES:
        return LOCAL
    if bases & _TOKEN_BASES or any(p in type(layer).__name__ for p in _PATCH_EMBEDDINGS):
        return TOKENS
    if "BaseRNN" in bases or "Bidirectional" in bases or isinstance(
            layer, (kl.Flatten, kl.Reshape, kl.Permute, kl.RepeatVector)):
        return GLOBAL
    if any(w in type(layer).__name__ for w in _MIXING_WORDS) or "MultiHeadAttention" in bases:
        return GLOBAL
    return UNKNOWN


def blocks_default(layer) -> bool:
    """Whether the default ℓ must come before ``layer``: a global or opaque layer, or an
    unknown one (a ``Lambda``, a custom layer) that changes its input's shape; a
    shape-preserving unknown layer (a scaling ``Lambda``, ConvNeXt's LayerScale) does not
    block the default, though it turns crops off."""
    k = kind(layer)
    if k in (GLOBAL, OPAQUE):
        return not is_patch_embedding(layer)
    if k != UNKNOWN:
        return False
    try:
        return tuple(layer.input.shape) != tuple(layer.output.shape)
    except (AttributeError, ValueError, TypeError):
        return True


def _per_position(layer) -> bool:
    """A Dense layer applied to inputs of rank > 2 acts on the last axis per position."""
    try:
        return len(layer.input.shape) > 2
    except (AttributeError, ValueError):
        return False


def is_patch_embedding(layer) -> bool:
    return any(p in type(layer).__name__ for p in _PATCH_EMBEDDINGS)


def describe(layer) -> str:
    """A few words on why a layer is global, for messages."""
    name = type(layer).__name__
    if isinstance(layer, keras.layers.TFSMLayer):
        return "a SavedModel signature (TFSMLayer) whose inside cannot be reached"
    if "BaseGlobalPooling" in _bases(layer):
        return "global pooling over all positions"
    if "Attention" in name or "Transformer" in name or "Encoder" in name:
        return "attention over positions"
    if isinstance(layer, (kl.Flatten, kl.Reshape, kl.Permute)):
        return "a reshape over positions"
    if isinstance(layer, kl.Dense):
        return "a dense layer over all features"
    return f"a {name} layer not known to be local"
