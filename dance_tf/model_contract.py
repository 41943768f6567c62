"""The model contract: what dance_tf explains of a Keras model, checked where it enters (§2, §3).

DANCE explains one class score of a classifier (§2: the pre-softmax logits) through an
intermediate layer ℓ. Every entry — ``explain``, ``Explainer``, the base methods of
``dance_tf.saliency``, evaluate, export and the command line — reaches the model through
``contract(model, output=None, example=None)``, which returns a ``ModelContract``:

- **input**: one input tensor, float; its unbatched shape (``None`` axes: any size). A
  model that declares no input (an unbuilt ``Sequential``, a subclassed model never
  called) is built on the given ``example``; an example that could be one input or a
  batch is refused with the fix. Integer inputs (token ids) are refused with the way to
  explain at the embedding output (``split_at``).
- **output**: one tensor (N, classes). Dict, list or tuple outputs are chosen with
  ``output=`` (a key or an index).
- **head**: a final softmax, log-softmax or sigmoid — a layer, an ``Activation``, a layer's
  ``activation=`` or a ``keras.ops`` call — is stripped, so the logits are explained;
  ``explained`` says what the map explains.
- **dtype**: a mixed-precision model computes in float16 / bfloat16; its logits and
  layer-ℓ outputs are cast to float32, so decoys, certificates and maps are float32.
- **graph**: functional and ``Sequential`` models (nested ones too) are walked layer by
  layer; a subclassed model is wrapped, and its inner layers are not reachable as ℓ.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers as kl

from dance_tf.errors import InputError

#: final activations stripped to reach the logits
HEADS = ("softmax", "log_softmax", "sigmoid")
_OP_HEADS = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid"}
_REDUCED = ("float16", "bfloat16")


@dataclass(frozen=True, eq=False)
class ModelContract:
    """What dance_tf explains of ``model``.

    graph: a functional Keras model with one output (the chosen output, head included);
    logits: a functional Keras model from the same input to the float32 logits (N, C);
    input_shape: one unbatched input's shape (None entries: any size);
    head: the stripped final activation ("softmax", "log_softmax", "sigmoid") or None;
    head_layer: the stripped layer (or op), so that ℓ is never chosen after the logits;
    explained: what a map explains, e.g. "logits" or "logits (final softmax stripped)";
    notes: statements about the model a result should carry (mixed precision, ...);
    subclassed: True when the inner layers are hidden in a subclassed ``call``.
    """

    model: object
    graph: object
    logits: object
    input_shape: tuple | None
    head: str | None = None
    head_layer: object = None
    explained: str = "logits"
    output: str | int | None = None
    notes: tuple = ()
    subclassed: bool = False
    opaque: tuple = field(default_factory=tuple)

    @property
    def n_classes(self) -> int | None:
        width = self.logits.output.shape[-1]
        return width if isinstance(width, int) else None


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def contract(model: keras.Model, output: str | int | None = None, example=None) -> ModelContract:
    """The checked ``ModelContract`` of ``model`` (cached per model object and ``output``).

    example: an input (*S) or a batch (N, *S), needed only to build a model that declares
    no input. Raises ``InputError`` / ``TypeError`` naming the problem and the fix.
    """
    check_type(model)
    key = ("output", output)
    try:
        cached = _CACHE.get(model, {})
    except TypeError:   # not weak-referenceable: no cache
        cached = {}
    if key in cached:
        return cached[key]
    shape = None
    if not declares_input(model):
        if example is None:
            raise InputError(f"model: {model.name!r} declares no input shape (an unbuilt "
                             "Sequential or a subclassed model); give it a keras.Input, or "
                             "pass an input to build it on")
        shape = build_on(model, np.asarray(example))
    result = _make(model, output, shape)
    try:
        _CACHE.setdefault(model, {})[key] = result
    except TypeError:
        pass
    return result


def check_type(model) -> None:
    if isinstance(model, keras.layers.TFSMLayer):
        raise TypeError("model: a keras.layers.TFSMLayer is a layer, not a model; wrap it: "
                        "keras.Sequential([keras.Input(shape), tfsm_layer]) (it is opaque: "
                        "layer ℓ must then come before it)")
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a Keras model (keras.Model), got "
                        f"{type(model).__name__}")


def declares_input(model) -> bool:
    """Whether ``model`` has a graph input (functional, or a built ``Sequential``); a
    subclassed model never does: its input shape comes from the inputs it is given."""
    try:
        return bool(model.inputs)
    except (AttributeError, ValueError):
        return False


def is_functional(model) -> bool:
    return isinstance(model, keras.Sequential) or hasattr(model, "_run_through_graph")


# ------------------------------------------------------------------ building on an example
def _output_rank(model, shape: tuple) -> tuple | None:
    """The output shape of ``model`` on inputs (None, *shape), or None if it cannot run."""
    try:
        if isinstance(model, keras.Sequential) and not model.built:
            twin = keras.models.clone_model(model)
            twin.build((None,) + tuple(shape))
            return tuple(twin.outputs[0].shape)
        spec = model.compute_output_spec(keras.KerasTensor((None,) + tuple(shape)))
    except Exception:  # noqa: BLE001 - any failure means "not this shape"
        return None
    if isinstance(spec, dict):
        spec = list(spec.values())[0]
    if isinstance(spec, (list, tuple)):
        spec = spec[0]
    return tuple(spec.shape)


def build_on(model, x: np.ndarray) -> tuple:
    """Build a model that declares no input on ``x``: as one input (*S) or as a batch
    (N, *S), whichever gives an output (N, classes); both or neither → ``InputError``
    with the fix. Returns the unbatched input shape it was built for."""
    if x.ndim == 0:
        raise InputError("x: expected an array input, got a scalar")
    cands = []
    if x.ndim >= 2:
        cands.append(("a batch of inputs", tuple(x.shape[1:])))
    cands.append(("one input", tuple(x.shape)))
    fits = [(what, s) for what, s in cands
            if (o := _output_rank(model, s)) is not None and len(o) == 2]
    if len(fits) > 1:
        raise InputError(
            f"x: model {model.name!r} declares no input shape, and x of shape {x.shape} "
            f"could be one input of shape {fits[1][1]} or a batch of {x.shape[0]} inputs of "
            f"shape {fits[0][1]}; build the model first, e.g. model.build((None, "
            f"{', '.join(map(str, fits[0][1]))})) or keras.Input(shape=...)")
    if not fits:
        raise InputError(
            f"x: model {model.name!r} declares no input shape and gives no (N, classes) "
            f"output on x of shape {x.shape} read as one input or as a batch; build it "
            "with keras.Input(shape=...) and check that it ends in a classifier head")
    build_for_shape(model, fits[0][1])
    return fits[0][1]


def build_for_shape(model, shape: tuple) -> None:
    """Build a model that declares no input for unbatched inputs of ``shape``."""
    if isinstance(model, keras.Sequential):
        model.build((None,) + tuple(shape))
    else:
        model(np.zeros((1,) + tuple(shape), np.float32))


# ------------------------------------------------------------------ the contract
def _make(model, output, shape=None) -> ModelContract:
    subclassed = not is_functional(model)
    if subclassed:
        spec = keras.KerasTensor((None,) + tuple(shape))
    else:
        graph_in = model.inputs
        if len(graph_in) != 1:
            raise InputError(f"model: expected a model with one input, got {len(graph_in)} "
                             "inputs")
        spec = graph_in[0]
        shape = tuple(spec.shape[1:])
    if "int" in str(spec.dtype):
        raise InputError(_token_message(model, spec.dtype))
    if subclassed:
        inp = keras.Input(shape=shape, dtype=spec.dtype, name="dance_input")
        structure = model(inp)
        base = (inp, structure)
    else:
        structure = model.outputs[0] if isinstance(model, keras.Sequential) else model.output
        base = (graph_in[0], structure)
    tensor, chosen = _select_output(structure, output, model.name)
    graph = keras.Model(base[0], tensor, name=f"{model.name}_explained")
    logits_t, head, head_layer = _strip_head(graph, tensor)
    notes = []
    if str(logits_t.dtype) != "float32" or _reduced_precision(model):
        notes.append(f"the model computes in {_compute_dtype(model)}; its logits and layer-ℓ "
                     "outputs are cast to float32, so decoys, certificates and maps are "
                     "float32")
        logits_t = keras.ops.cast(logits_t, "float32")
    logits = keras.Model(base[0], logits_t, name=f"{model.name}_logits")
    logits._dance_logits = True   # the base methods differentiate it as it is
    out_shape = tuple(logits_t.shape)
    if len(out_shape) != 2:
        raise InputError(f"model: expected an output of shape (N, classes), got {out_shape} "
                         f"(rank {len(out_shape)}); add the classifier head or reshape")
    explained = "logits" if head is None else f"logits (final {head} stripped)"
    if chosen is not None:
        explained = f"output {chosen!r}: {explained}"
    return ModelContract(model=model, graph=graph, logits=logits, input_shape=shape,
                         head=head, head_layer=head_layer, explained=explained,
                         output=chosen, notes=tuple(notes), subclassed=subclassed,
                         opaque=tuple(opaque_layers(model)))


def _select_output(structure, output, name):
    """(the chosen output tensor, its key or index or None) from a model's outputs."""
    if isinstance(structure, dict):
        keys = list(structure)
        if output is None:
            if len(keys) == 1:
                return structure[keys[0]], keys[0]
            raise InputError(f"output: model {name!r} returns a dict with keys {keys}; "
                             "choose the logits with output=<key>")
        if output not in structure:
            raise InputError(f"output: {output!r} is not a key of model {name!r}'s "
                             f"outputs {keys}")
        return structure[output], output
    if isinstance(structure, (list, tuple)):
        if len(structure) == 1 and output in (None, 0):
            return structure[0], None
        if output is None:
            raise InputError(f"output: model {name!r} returns {len(structure)} outputs; "
                             "choose the logits with output=<index>")
        if isinstance(output, bool) or not isinstance(output, int) or not (
                -len(structure) <= output < len(structure)):
            raise InputError(f"output: expected an index in [0, {len(structure)}) for "
                             f"model {name!r}'s {len(structure)} outputs, got {output!r}")
        return structure[output], output
    if output not in (None, 0):
        raise InputError(f"output: model {name!r} has one output; got output={output!r}")
    return structure, None


def _activation_name(fn) -> str:
    name = getattr(fn, "__name__", "") or ""
    return name if name in HEADS else ""


def _strip_head(graph, tensor):
    """(logits tensor, head name or None, the stripped layer or op) for a graph's output."""
    history = getattr(tensor, "_keras_history", None)
    op = getattr(history, "operation", None)
    if op is None:
        return tensor, None, None
    nodes = [n for n in op._inbound_nodes if any(t is tensor for t in n.output_tensors)]
    node = nodes[0] if nodes else None
    if node is None or len(node.input_tensors) != 1:
        return tensor, None, None
    feed = node.input_tensors[0]
    if not isinstance(op, keras.layers.Layer):
        head = _OP_HEADS.get(type(op).__name__)
        axis = getattr(op, "axis", -1)
        if head and axis in (-1, len(tensor.shape) - 1):
            return feed, head, op
        return tensor, None, None
    if isinstance(op, kl.Softmax) and op.axis in (-1, len(tensor.shape) - 1):
        return feed, "softmax", op
    if isinstance(op, kl.Activation):
        head = _activation_name(op.activation)
        return (feed, head, op) if head else (tensor, None, None)
    if isinstance(op, keras.Model):
        return _strip_nested(graph, op, tensor)
    head = _activation_name(getattr(op, "activation", None))
    if head and hasattr(op, "get_config"):
        return linear_twin(op, feed), head, op
    return tensor, None, None


def linear_twin(layer, feed):
    """``layer`` with a linear activation (weights copied) applied to ``feed``."""
    cfg = layer.get_config()
    cfg["activation"] = "linear"
    cfg["name"] = layer.name + "_logits"
    twin = type(layer).from_config(cfg)
    out = twin(feed)
    twin.set_weights(layer.get_weights())
    return out


def _strip_nested(graph, inner, tensor):
    """A head inside a nested model that produces the output: strip it there and apply
    the rest of the graph up to it (the older walk of ``dance_tf.layers``)."""
    out, head, layer = logits_through_nesting(graph)
    return (out, head, layer) if head else (tensor, None, None)


def _compute_dtype(model) -> str:
    policy = getattr(model, "dtype_policy", None)
    dtypes = {getattr(getattr(lay, "dtype_policy", None), "compute_dtype", "float32")
              for lay in _leaves(model)}
    dtypes.add(getattr(policy, "compute_dtype", "float32"))
    reduced = sorted(d for d in dtypes if d in _REDUCED)
    return reduced[0] if reduced else "float32"


def _reduced_precision(model) -> bool:
    return _compute_dtype(model) in _REDUCED


def _leaves(model) -> list:
    out = []
    for lay in getattr(model, "layers", []):
        out.extend(_leaves(lay) if isinstance(lay, keras.Model) else [lay])
    return out


def opaque_layers(model) -> list:
    """Layers whose inside cannot be reached (a SavedModel's ``TFSMLayer``)."""
    return [lay for lay in _leaves(model) if isinstance(lay, keras.layers.TFSMLayer)]


# ------------------------------------------------------------------ token models
def _embedding_layers(model) -> list:
    return [lay for lay in _leaves(model) if isinstance(lay, kl.Embedding)]


def _token_message(model, dtype) -> str:
    emb = _embedding_layers(model)
    name = emb[0].name if emb else "<embedding layer>"
    return (f"x: model {model.name!r} takes integer inputs ({dtype}: token ids), which "
            "carry no gradient; explain at the embedding output, as the paper does for "
            f"SST (§4.3.2): embed, head = dance_tf.split_at(model, {name!r}); then "
            "dance_tf.explain(head, embed(ids[None])[0], ...) — or in one call "
            f"dance_tf.explain_tokens(model, ids, embedding={name!r})")


def logits_through_nesting(graph):
    """(logits tensor on ``graph``'s input, head name, the stripped layer) for a graph
    whose last leaf layer — inside nested models — is a final softmax / log-softmax /
    sigmoid (a layer, an ``Activation`` or a layer's activation); (None, None, None)
    otherwise. The rest of the graph is applied up to that layer."""
    from dance_tf.layers import apply_until, walk

    leaves = walk(graph)
    if len(leaves) < 2:
        return None, None, None
    path, last = leaves[-1]
    act = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(last, kl.Softmax):
        head = "softmax"
    elif act in HEADS:
        head = act
    else:
        return None, None, None
    prev_path, prev = leaves[-2]
    feat = apply_until(graph, prev_path, prev, graph.inputs[0])
    if isinstance(last, (kl.Softmax, kl.Activation)):
        return feat, head, last
    return linear_twin(last, feat), head, last


def logits_model(model, input_shape: tuple[int, ...] | None = None
                 ) -> tuple[keras.Model, object | None]:
    """(a model that outputs the float32 logits, the stripped final layer or None): the
    ``dance_tf.model_contract`` of ``model`` (a final softmax, log-softmax or sigmoid —
    layer, activation or ``keras.ops`` call — stripped; §2: the saliency methods explain
    logits). input_shape: one input's shape, used only to build a model that declares
    none."""
    if input_shape is not None and isinstance(model, keras.Model) and not declares_input(
            model):
        build_for_shape(model, tuple(int(s) for s in input_shape))
    c = contract(model)
    return c.logits, c.head_layer
