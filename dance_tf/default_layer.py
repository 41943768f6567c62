"""The default layer ℓ, chosen from the graph by the paper's principle (§3.2, Table S1).

The paper bounds decoys at an early layer that still has spatial (or token) structure:
VGG16 pool1 (total stride 2), ResNet pool1 (stride 4), the SST and IDS nets' second layer.
For a model it does not know by name, ``choose`` walks the leaf layers in order, keeps
those before the first global one (``dance_tf.locality``: attention over all positions,
global pooling, flatten, reshapes over space, the logits; unknown custom layers count as
global), and picks:

1. the first (non-global) pooling layer at total stride ≤ 4 (VGG pool1, ResNet pool1,
   DenseNet, Inception, Xception);
2. else a patch embedding (a ViT's patches with their position embedding);
3. else, among layers at the largest total stride ≤ 4, the first with the fewest output
   elements, extended over the element-wise layers that follow it (MobileNetV2
   ``block_1_project_BN``, ConvNeXt's stem norm);
4. inputs without spatial axes (tabular): the paper's index 2 over dense layers, never the
   logits.

``reason`` says which rule chose it; ``first_global_before`` finds the global layer a
user's ℓ comes after, for the warning of ``dance_tf.layers``.
"""

from __future__ import annotations

import math

import keras

from dance_tf import locality
from dance_tf.errors import LayerError

#: the paper's ℓ (Table S1) and Keras' own copies of its nets, by model name
PAPER_LAYER: dict[str, int | str] = {
    "efficientnet_lite0": "block2a_project_bn",
    "efficientnet_lite1": "block2a_project_bn",
    "efficientnet_lite2": "block2a_project_bn",
    "vgg_16": 3,
    "alexnet_v2": 6,
    "resnet_v1_50": 2,
    "caffe_alexnet": 6,
    "sst_cnn": 2,
    "ids_mlp": 2,
    "digits_cnn": 2,
    "vgg16": "block1_pool",
    "resnet50": "pool1_pool",
}
MAX_STRIDE = 4
_ELEMENTWISE = ("BatchNormalization", "Activation", "ReLU", "LayerNormalization", "Dropout",
                "Rescaling", "Normalization", "LeakyReLU", "PReLU", "ELU")


def _leaves(model, prefix=()):
    out = []
    for lay in model.layers:
        if isinstance(lay, keras.layers.InputLayer):
            continue
        if isinstance(lay, keras.Model):
            out.extend(_leaves(lay, prefix + (lay.name,)))
        else:
            out.append(("/".join(prefix + (lay.name,)), lay))
    return out


def _shape(layer, traced=None):
    if traced is not None and id(layer) in traced:
        return traced[id(layer)]
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    return tuple(shape) if isinstance(shape, (list, tuple)) else None


def _traced_shapes(model, leaves, input_shape) -> dict | None:
    """Each leaf's output shape on inputs of the concrete ``input_shape`` (for models
    with variable axes), from one symbolic re-application of the graph; None if it fails."""
    from dance_tf.crops import _reapply

    before = {id(lay): len(lay._inbound_nodes) for _, lay in leaves}
    try:
        _reapply(model, keras.Input(shape=tuple(input_shape)))
    except Exception:  # noqa: BLE001 - a graph that cannot be re-applied: no strides
        return None
    out = {}
    for _, lay in leaves:
        nodes = lay._inbound_nodes[before[id(lay)]:]
        if nodes and nodes[-1].output_tensors:
            out[id(lay)] = tuple(nodes[-1].output_tensors[0].shape)
    return out


def _stride(in_shape: tuple, out_shape) -> int | None:
    """Total stride from the input's spatial size to a layer's (a power of two), or None
    when the layer has no matching spatial axes or a size is not static."""
    k = len(in_shape) - 1
    if out_shape is None or len(out_shape) != k + 2 or k < 1:
        return None
    ratios = []
    for a, b in zip(in_shape[:k], out_shape[1:-1]):
        if not isinstance(a, int) or not isinstance(b, int) or b < 1:
            return None
        ratios.append(a / b)
    return int(2 ** round(math.log2(max(ratios)))) if max(ratios) > 0 else None


def _before_global(leaves, head_layer):
    """The leaves before the first global / opaque one, and that blocking leaf."""
    out = []
    for path, lay in leaves:
        if lay is head_layer:
            return out, None
        if locality.blocks_default(lay):
            return out, (path, lay)
        out.append((path, lay))
    return out, None


def choose(model, input_shape: tuple, head_layer=None) -> tuple[str | int, str]:
    """(ℓ as a layer path or a Table S1 index, the reason) for ``model`` with unbatched
    inputs of ``input_shape``. Raises ``LayerError`` when no layer before a global one
    exists (the message names the blocking layer)."""
    if model.name in PAPER_LAYER:
        return PAPER_LAYER[model.name], f"Table S1's ℓ for {model.name!r}"
    leaves = _leaves(model)
    if len(input_shape) < 2:
        return _tabular(leaves)
    early, blocker = _before_global(leaves, head_layer)
    for path, lay in early:
        if locality.is_patch_embedding(lay):
            return path, "the patch embedding (with its position embedding): the last layer " \
                         "before attention over all patches"
    traced = None
    if any(d is None for _, lay in early for d in (_shape(lay) or (None,))[1:]):
        traced = _traced_shapes(model, leaves, input_shape)
    shapes = {id(lay): _shape(lay, traced) for _, lay in early}
    sized = [(path, lay, _stride(input_shape, shapes[id(lay)])) for path, lay in early]
    sized = [(p, lay, s) for p, lay, s in sized if s is not None and s <= MAX_STRIDE]
    for path, lay, s in sized:
        if "BasePooling" in {c.__name__ for c in type(lay).__mro__}:
            return path, (f"the first pooling layer (total stride {s}; Table S1 takes pool1 "
                          "of VGG16 and ResNet)")
    if not sized:
        if blocker is not None:
            path, lay = blocker
            raise LayerError(
                f"layer: no default ℓ for {model.name!r}: its first layers end at {path!r}, "
                f"{locality.describe(lay)}, before any layer with spatial structure; give "
                "layer= a layer path (nested models: 'outer/inner/layer') or a keras.Model "
                "that computes F_ℓ from the input")
        raise LayerError(f"layer: no default ℓ for {model.name!r}: no layer keeps the "
                         "input's spatial structure; give layer= explicitly")
    top = max(s for _, _, s in sized)
    at_top = [(p, lay) for p, lay, s in sized if s == top]
    size = {id(lay): math.prod(d for d in shapes[id(lay)][1:]) for _, lay in at_top}
    fewest = min(size.values())
    start = next(i for i, (_, lay) in enumerate(at_top) if size[id(lay)] == fewest)
    path, lay = at_top[start]
    for p2, l2 in at_top[start + 1:]:
        if type(l2).__name__ not in _ELEMENTWISE or shapes[id(l2)] != shapes[id(lay)]:
            break
        path = p2
    return path, (f"the narrowest layer at total stride {top} (≤ {MAX_STRIDE}) before any "
                  "global operation, like Table S1's early layers")


def _tabular(leaves) -> tuple[int, str]:
    dense = [lay for _, lay in leaves if isinstance(lay, keras.layers.Dense)]
    index = max(1, min(2, len(dense) - 1))
    return index, (f"no spatial axes: the paper's index {index} over dense layers "
                   "(Table S1: IDS), never the logits")


def first_global_before(model, path_layer) -> object | None:
    """The first global (or opaque) leaf that comes before ``path_layer`` in ``model``, or
    None (ℓ is then before any global operation)."""
    for _, lay in _leaves(model):
        if lay is path_layer:
            return None
        if locality.blocks_default(lay):
            return lay
    return None
