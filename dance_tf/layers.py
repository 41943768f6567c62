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

from dance_tf import default_layer as _default
from dance_tf.errors import LayerError

#: the paper's ℓ (Table S1) for models known by name (EfficientNet-Lite0/1/2: not in the
#: paper; their block 2a output, stride 4 like ResNet's ℓ = 2, see ``models.efficientnet_lite``);
#: other models: ``dance_tf.default_layer.choose``
PAPER_LAYER = _default.PAPER_LAYER
DEFAULT_INDEX = 2


class LayerWarning(UserWarning):
    """Layer ℓ is after a global operation or is the logits: decoys are then bounded where
    every position is mixed, which is not what the paper's early ℓ means."""


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
    """A resolved layer ℓ: the layer, the nested models enclosing it, its name, its path
    ("outer/inner/layer") and why it was chosen."""

    layer: object
    path: tuple
    name: str
    index: int | None  # the paper's 1-based index when the layer is counted
    reason: str = "given as layer="

    @property
    def path_name(self) -> str:
        return "/".join([m.name for m in self.path] + [self.name])


def _candidates(model, name: str) -> list[str]:
    names = [name]
    if "/" in name:
        parts = name.split("/")
        if parts[0] == model.name:
            parts = parts[1:]
        names += [".".join(parts), parts[-1]]
    return names


def _by_path(leaves, parts):
    """(enclosing models, layer) whose nested-model names and name are ``parts``."""
    for path, lay in leaves:
        names = [m.name for m in path] + [lay.name]
        if names[-len(parts):] == parts and len(parts) <= len(names):
            chain = path + (lay,)
            k = len(chain) - len(parts)
            if [m.name for m in chain[k:]] == parts:
                return path, lay
    for path, _ in leaves:   # a nested model itself
        for i in range(len(path)):
            if [m.name for m in path[: i + 1]][-len(parts):] == parts:
                return path[:i], path[i]
    return None


def resolve_layer(model, layer: str | int | None, input_shape: tuple | None = None,
                  head_layer=None) -> LayerChoice:
    """Find layer ℓ by path (``"vit_backbone/patch_embedding"``), name, slim end-point
    spelling or Table S1 index; None: the default (``dance_tf.default_layer.choose``,
    which needs ``input_shape``).

    Raises ``LayerError`` naming the argument when the name is unknown or the index is out
    of range, and ``TypeError`` for other argument types.
    """
    leaves = walk(model)
    counted = counted_layers(model)
    reason = "given as layer="
    if layer is None:
        if input_shape is None:
            layer = PAPER_LAYER.get(model.name, DEFAULT_INDEX)
            if isinstance(layer, int) and counted:
                layer = min(layer, max(1, len(counted) - 1))
        else:
            layer, reason = _default.choose(model, tuple(input_shape), head_layer)
    if isinstance(layer, bool) or not isinstance(layer, (int, str)):
        raise TypeError(f"layer: expected a layer name or path, a 1-based index or a "
                        f"keras.Model computing F_ℓ, got {layer!r}")
    if isinstance(layer, int):
        if not 1 <= layer <= len(counted):
            raise LayerError(
                f"layer: index {layer} is out of range; this model has {len(counted)} "
                f"conv/pool/dense layers (Table S1 counts from 1)")
        target = counted[layer - 1]
        path = next(p for p, lay in leaves if lay is target)
        return LayerChoice(target, path, target.name, layer, reason)
    hit = _by_path(leaves, [p for p in layer.split("/") if p]) if "/" in layer else None
    if hit is None:
        for cand in _candidates(model, layer):
            hits = [(p, lay) for p, lay in leaves if lay.name == cand]
            hits += [(p[: i], p[i]) for p, _ in leaves for i in range(len(p))
                     if p[i].name == cand and (p[: i], p[i]) not in hits]
            if hits:
                hit = hits[0]
                break
    if hit is not None:
        path, target = hit
        idx = next((i + 1 for i, c in enumerate(counted) if c is target), None)
        return LayerChoice(target, path, target.name, idx, reason)
    known = ["/".join([m.name for m in p] + [lay.name]) for p, lay in leaves]
    raise LayerError(f"layer: no layer named {layer!r}; known layers: {known}")


def warn_if_global(model, choice: LayerChoice, head_layer=None) -> None:
    """A ``LayerWarning`` when ℓ comes after a global operation or is the logits."""
    import warnings

    from dance_tf.locality import describe

    leaves = walk(model)
    if leaves and leaves[-1][1] is choice.layer or (
            head_layer is not None and len(leaves) > 1 and leaves[-2][1] is choice.layer):
        warnings.warn(f"layer: ℓ = {choice.path_name!r} is the model's output (the logits): "
                      "decoys bounded there are only constrained not to change the scores, "
                      "which is not DANCE's early layer (§3.2); choose an early layer with "
                      "spatial structure", LayerWarning, stacklevel=4)
        return
    blocker = _default.first_global_before(model, choice.layer)
    if blocker is not None:
        warnings.warn(f"layer: ℓ = {choice.path_name!r} comes after {blocker.name!r} "
                      f"({describe(blocker)}): every decoy may then move every unit of ℓ, "
                      "so decoys are no longer local to their patch and crops are off; the "
                      "paper bounds decoys at an early layer with spatial structure "
                      "(Table S1)", LayerWarning, stacklevel=4)


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


def apply_until(model, choice_path: tuple, target, tensor):
    """Run ``model`` on ``tensor`` up to the output of ``target`` (recursing into nesting)."""
    inner = choice_path[0] if choice_path else None
    stop = inner if inner is not None else target
    if isinstance(model, keras.Sequential):
        h = tensor
        for lay in _own_layers(model):
            if lay is stop:
                if inner is not None:
                    return apply_until(inner, choice_path[1:], target, h)
                return lay(h, training=False)
            h = lay(h, training=False)
        raise LayerError(f"layer: {target.name!r} not found in {model.name!r}")
    if inner is not None:
        feed = keras.Model(model.inputs, _node_input(model, inner))(tensor, training=False)
        return apply_until(inner, choice_path[1:], target, feed)
    # the target's output in *this* model's graph: its layers may also be called in
    # another model (a model built from another model's layers), where ``.output`` points
    own = _own_nodes(model)
    calls = [n for n in target._inbound_nodes if id(n) in own]
    if len(calls) == 1 and len(calls[0].output_tensors) > 1:
        raise LayerError(f"layer: {target.name!r} has {len(calls[0].output_tensors)} "
                         "outputs; choose a single-output layer")
    out = calls[0].output_tensors[0] if len(calls) == 1 else target.output
    return keras.Model(model.inputs, out)(tensor, training=False)


def layer_model(model, layer, input_shape: tuple, head_layer=None,
                concrete_shape: tuple | None = None) -> tuple[keras.Model, LayerChoice]:
    """Build F_ℓ: a Keras model from the input (N, *input_shape) to layer ℓ's float32
    output (§3.2). layer: a path, name, Table S1 index, None (the default, chosen on
    ``concrete_shape`` or ``input_shape``) or a ``keras.Model`` that computes F_ℓ itself
    (the way to reach ℓ inside a subclassed model). The sub-model shares the original
    weights (nothing is copied) and runs only layers 1..ℓ. Returns (F_ℓ, the choice);
    warns (``LayerWarning``) when ℓ comes after a global operation or is the logits.
    """
    if isinstance(layer, keras.Model):
        return _given_f_l(layer, input_shape)
    if not (isinstance(model, keras.Sequential) or hasattr(model, "_run_through_graph")):
        raise LayerError(
            f"layer: {model.name!r} is a subclassed keras.Model: its layers are called inside "
            "call(), so there is no graph to cut at layer ℓ; pass layer= a keras.Model that "
            "computes F_ℓ from the input (e.g. keras.Sequential([keras.Input(shape), "
            "*model.layers[:k]]) when call() applies them in order), or build the model with "
            "the functional API")
    shape_for_default = tuple(concrete_shape or input_shape)
    choice = resolve_layer(model, layer, shape_for_default if layer is None else None,
                           head_layer)
    if layer is not None:
        warn_if_global(model, choice, head_layer)
    outer = choice.path[-1] if choice.path else model
    own = _own_nodes(outer)
    calls = [n for n in choice.layer._inbound_nodes if id(n) in own]
    if len(calls) > 1:
        raise LayerError(
            f"layer: {choice.name!r} is called {len(calls)} times inside {outer.name!r} (a "
            "shared layer): its output is not one tensor, so decoys could not be certified "
            "at every call; choose a layer that is called once")
    if calls and len(calls[0].output_tensors) > 1:
        raise LayerError(f"layer: {choice.name!r} has {len(calls[0].output_tensors)} outputs; "
                         "a decoy would be certified on the first only: choose a "
                         "single-output layer")
    inp = keras.Input(shape=tuple(input_shape), name="dance_input")
    out = apply_until(model, choice.path, choice.layer, inp)
    if isinstance(out, (list, tuple, dict)):
        raise LayerError(f"layer: {choice.name!r} has several outputs; choose a single-output "
                         "layer")
    if str(out.dtype) != "float32":
        out = keras.ops.cast(out, "float32")
    return keras.Model(inp, out, name=f"{model.name}_to_{choice.name}"), choice


def _given_f_l(f_l, input_shape) -> tuple[keras.Model, LayerChoice]:
    """F_ℓ given as a Keras model: checked to take the model's inputs."""
    try:
        inp = keras.Input(shape=tuple(input_shape), name="dance_input")
        out = f_l(inp)
    except Exception as err:  # noqa: BLE001 - Keras raises several types for a bad shape
        raise LayerError(f"layer: the keras.Model given as F_ℓ ({f_l.name!r}) does not take "
                         f"inputs of shape {tuple(input_shape)}: {err}") from err
    if isinstance(out, (list, tuple, dict)):
        raise LayerError(f"layer: the keras.Model given as F_ℓ ({f_l.name!r}) must return "
                         "one tensor")
    if str(out.dtype) != "float32":
        out = keras.ops.cast(out, "float32")
    choice = LayerChoice(f_l, (), f_l.name, None, "given as a keras.Model computing F_ℓ")
    return keras.Model(inp, out, name=f"dance_f_l_{f_l.name}"), choice


def _own_nodes(model) -> set[int]:
    """ids of the call nodes of ``model``'s own graph (not of other models that call the
    same layers, e.g. our sub-models); empty for subclassed models."""
    graph = getattr(model, "_functional", None) or model
    return {id(n) for nodes in getattr(graph, "_nodes_by_depth", {}).values() for n in nodes}


def class_count(logits) -> int | None:
    """The static number of classes of a logits model, or None when it is not known."""
    width = getattr(logits, "output_shape", (None,))[-1]
    return width if isinstance(width, int) else None


#: dtypes of the decoy optimiser's inner loop (issue 6: mixed precision)
PRECISIONS = ("float32", "bfloat16")


def loop_model(f_l: keras.Model, precision: str) -> keras.Model:
    """The decoy loop's F_ℓ: F_ℓ itself (float32) or a copy of it computing in
    ``precision`` (Keras' ``mixed_bfloat16`` policy; weights copied now: later changes to
    the model's weights do not reach the copy). The loop runs layers 1..ℓ k times per decoy
    (almost all of its cost); the reference F_ℓ(x), the certificate and the base method stay
    float32, so a decoy certified in bfloat16 only is replaced by x. Measured
    (BENCHMARKS.md): 1.8× faster fwd+bwd of vgg_16 up to pool1 on a CPU with AVX512-BF16;
    slower on small nets and CPUs without bf16 units."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        return f_l
    policy = keras.DTypePolicy(f"mixed_{precision}")

    def clone(layer):
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        config = layer.get_config()
        config["dtype"] = policy
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(f_l, clone_function=clone)
        copy.set_weights(f_l.get_weights())
    except Exception as err:  # noqa: BLE001 - any layer that cannot be rebuilt from config
        raise ValueError(f"precision={precision!r}: layers 1..ℓ cannot be copied to "
                         f"{precision} ({type(err).__name__}: {err}); use "
                         "precision='float32'") from err
    return copy
