"""Layer ℓ: Keras sub-models F_ℓ that expose an intermediate layer's output (§3.2, Table S1).

ℓ is chosen by Keras layer name, by slim's end-point spelling (``vgg_16/pool1`` →
``pool1``, ``vgg_16/conv1/conv1_2`` → ``conv1.conv1_2``) or by the paper's 1-based index
over convolution, pooling and dense layers in topological order (Table S1), recursing into
nested models. Sequential, functional and nested models work; every sub-model runs in
inference mode (BatchNormalization uses its moving statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers as kl

from dance_tf.errors import DanceError, LayerError

#: the paper's ℓ (Table S1) for models known by name (EfficientNet-Lite0/1/2: not in the
#: paper; their block 2a output, stride 4 like ResNet's ℓ = 2, see
#: ``models.efficientnet_lite``); other models default to index 2
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
}
DEFAULT_INDEX = 2

_COUNTED = (kl.Dense,)


def _is_counted(layer) -> bool:
    """Conv, pooling and dense layers carry the paper's layer index (Table S1)."""
    cls_names = {c.__name__ for c in type(layer).__mro__}
    return (
        isinstance(layer, _COUNTED)
        or "BaseConv" in cls_names
        or "BaseDepthwiseConv" in cls_names
        or "BaseSeparableConv" in cls_names
        or "BasePooling" in cls_names
        or "BaseGlobalPooling" in cls_names
    )


def _is_model(layer) -> bool:
    return isinstance(layer, keras.Model)


def _own_layers(model) -> list:
    return [lay for lay in model.layers if not isinstance(lay, kl.InputLayer)]


def walk(model, prefix: tuple = ()) -> list[tuple[tuple, object]]:
    """All leaf layers in topological order as (path of enclosing models, layer)."""
    out = []
    for lay in _own_layers(model):
        if _is_model(lay):
            out.extend(walk(lay, prefix + (lay,)))
        else:
            out.append((prefix, lay))
    return out


def counted_layers(model) -> list:
    """Layers that carry the paper's 1-based index (conv / pool / dense), in order."""
    return [lay for _, lay in walk(model) if _is_counted(lay)]


@dataclass(frozen=True)
class LayerChoice:
    """A resolved layer ℓ: the layer, the nested models enclosing it, and its name."""

    layer: object
    path: tuple
    name: str
    index: int | None  # the paper's 1-based index when the layer is counted


def _candidates(model, name: str) -> list[str]:
    names = [name]
    if "/" in name:
        parts = name.split("/")
        if parts[0] == model.name:
            parts = parts[1:]
        names += [".".join(parts), parts[-1]]
    return names


def resolve_layer(model, layer: str | int | None) -> LayerChoice:
    """Find layer ℓ by name, slim end-point spelling or Table S1 index (None: the default).

    Raises ``ValueError`` naming the argument when the name is unknown or the index is out
    of range, and ``TypeError`` for other argument types.
    """
    leaves = walk(model)
    counted = counted_layers(model)
    if layer is None:
        layer = PAPER_LAYER.get(model.name, DEFAULT_INDEX)
        if isinstance(layer, int) and counted:
            layer = min(layer, max(1, len(counted) - 1))
    if isinstance(layer, bool) or not isinstance(layer, (int, str)):
        raise TypeError(f"layer: expected a layer name or a 1-based index, got {layer!r}")
    if isinstance(layer, int):
        if not 1 <= layer <= len(counted):
            raise LayerError(
                f"layer: index {layer} is out of range; this model has {len(counted)} "
                f"conv/pool/dense layers (Table S1 counts from 1)")
        target = counted[layer - 1]
        path = next(p for p, lay in leaves if lay is target)
        return LayerChoice(target, path, target.name, layer)
    for cand in _candidates(model, layer):
        hits = [(p, lay) for p, lay in leaves if lay.name == cand]
        hits += [(p[: i], p[i]) for p, _ in leaves for i in range(len(p))
                 if p[i].name == cand and (p[: i], p[i]) not in hits]
        if hits:
            path, target = hits[0]
            idx = next((i + 1 for i, c in enumerate(counted) if c is target), None)
            return LayerChoice(target, path, target.name, idx)
    known = [lay.name for _, lay in leaves]
    raise LayerError(f"layer: no layer named {layer!r}; known layers: {known}")


def _node_input(outer, inner):
    """The tensor that feeds the nested model ``inner`` inside ``outer``'s graph."""
    nodes = [n for n in inner._inbound_nodes if _in_graph(outer, n)]
    if len(nodes) != 1:
        raise LayerError(
            f"layer: nested model {inner.name!r} is called {len(nodes)} times inside "
            f"{outer.name!r}; choose a layer outside it")
    tensors = nodes[0].input_tensors
    return tensors[0] if len(tensors) == 1 else tensors


def _in_graph(outer, node) -> bool:
    ops = getattr(outer, "_operations", None) or outer.layers
    return node.operation in ops and all(
        _tensor_reachable(outer, t) for t in node.input_tensors)


def _tensor_reachable(outer, tensor) -> bool:
    try:
        keras.Model(outer.inputs, tensor)
        return True
    except Exception:  # noqa: BLE001 - Keras raises several types for disconnected graphs
        return False


def _apply_until(model, choice_path: tuple, target, tensor):
    """Run ``model`` on ``tensor`` up to the output of ``target`` (recursing into nesting)."""
    inner = choice_path[0] if choice_path else None
    stop = inner if inner is not None else target
    if isinstance(model, keras.Sequential):
        h = tensor
        for lay in _own_layers(model):
            if lay is stop:
                if inner is not None:
                    return _apply_until(inner, choice_path[1:], target, h)
                return lay(h, training=False)
            h = lay(h, training=False)
        raise LayerError(f"layer: {target.name!r} not found in {model.name!r}")
    if inner is not None:
        feed = keras.Model(model.inputs, _node_input(model, inner))(tensor, training=False)
        return _apply_until(inner, choice_path[1:], target, feed)
    # the target's output in *this* model's graph: its layers may also be called in
    # another model (a model built from another model's layers), where ``.output`` points
    own = _own_nodes(model)
    calls = [n for n in target._inbound_nodes if id(n) in own]
    out = calls[0].output_tensors[0] if len(calls) == 1 else target.output
    return keras.Model(model.inputs, out)(tensor, training=False)


def layer_model(model, layer: str | int | None, input_shape: tuple[int, ...]
                ) -> tuple[keras.Model, LayerChoice]:
    """Build F_ℓ: a Keras model from the input (N, *input_shape) to layer ℓ's output.

    The sub-model shares the original weights (nothing is copied) and runs only layers
    1..ℓ. Returns (F_ℓ, the resolved choice).
    """
    choice = resolve_layer(model, layer)
    outer = choice.path[-1] if choice.path else model
    own = _own_nodes(outer)
    calls = [n for n in choice.layer._inbound_nodes if id(n) in own]
    if len(calls) > 1:
        raise LayerError(
            f"layer: {choice.name!r} is called {len(calls)} times inside {outer.name!r} (a "
            "shared layer): its output is not one tensor, so decoys could not be certified "
            "at every call; choose a layer that is called once")
    inp = keras.Input(shape=tuple(input_shape), name="dance_input")
    out = _apply_until(model, choice.path, choice.layer, inp)
    if isinstance(out, (list, tuple)):
        raise LayerError(f"layer: {choice.name!r} has several outputs; choose a single-output "
                         "layer")
    return keras.Model(inp, out, name=f"{model.name}_to_{choice.name}"), choice


def _softmax_activation(lay) -> bool:
    act = getattr(lay, "activation", None)
    return getattr(act, "__name__", "") == "softmax"


def _own_nodes(model) -> set[int]:
    """ids of the call nodes of ``model``'s own graph (not of other models that call the
    same layers, e.g. our sub-models); empty for subclassed models."""
    graph = getattr(model, "_functional", None) or model
    return {id(n) for nodes in getattr(graph, "_nodes_by_depth", {}).values() for n in nodes}


def _final_softmax_op(model):
    """The ``keras.ops.softmax`` / ``log_softmax`` operation (not a layer) that produces a
    functional model's output, or None."""
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) != 1:
        return None
    history = getattr(outputs[0], "_keras_history", None)
    op = getattr(history, "operation", None)
    if op is None or isinstance(op, keras.layers.Layer):
        return None
    if type(op).__name__ in ("Softmax", "LogSoftmax") and len(op._inbound_nodes) == 1:
        return op
    return None


def logits_model(model, input_shape: tuple[int, ...]) -> tuple[keras.Model, object | None]:
    """Return a model that outputs logits, and the stripped softmax layer (or None).

    Models that end in a ``Softmax`` layer, an ``Activation('softmax')`` layer, a layer
    built with ``activation='softmax'``, or a ``keras.ops.softmax`` / ``log_softmax`` call
    in a functional graph are rewrapped so that the pre-softmax scores come out (the
    saliency methods work on logits, §2). Other models are returned unchanged (the
    explainer refuses a model whose outputs still look like probabilities).
    """
    op = _final_softmax_op(model)
    if op is not None:  # keras.ops.softmax / log_softmax applied in a functional graph
        return keras.Model(model.inputs, op._inbound_nodes[0].input_tensors[0],
                           name=model.name + "_logits"), op
    leaves = walk(model)
    if not leaves:
        return model, None
    path, last = leaves[-1]
    is_softmax_layer = isinstance(last, kl.Softmax) or (
        isinstance(last, kl.Activation) and _softmax_activation(last))
    if not (is_softmax_layer or _softmax_activation(last)):
        return model, None
    if is_softmax_layer:
        prev_path, prev = leaves[-2]
        sub, _ = layer_model(model, prev.name, input_shape)
        return sub, last
    # a layer with a softmax activation: clone it linear, with the same weights
    cfg = last.get_config()
    cfg["activation"] = "linear"
    cfg["name"] = last.name + "_logits"
    twin = type(last).from_config(cfg)
    inp = keras.Input(shape=tuple(input_shape))
    if len(leaves) < 2:
        raise DanceError("model: cannot separate the logits of a one-layer softmax model")
    prev_path, prev = leaves[-2]
    feat = _apply_until(model, prev_path, prev, inp)
    out = twin(feat)
    twin.set_weights(last.get_weights())
    return keras.Model(inp, out, name=model.name + "_logits"), last


def class_count(logits) -> int | None:
    """The static number of classes of a logits model, or None when it is not known."""
    width = getattr(logits, "output_shape", (None,))[-1]
    return width if isinstance(width, int) else None
