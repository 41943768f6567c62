"""Grad-CAM (Selvaraju et al. 2017; S9 of the paper).

For a convolutional layer with activations A (N, h, w, K), the map is
ReLU(Σ_k α_k A_k) with α_k = mean_{h,w} ∂F^c/∂A_k, an (h, w) map at the layer's resolution.
To be a base method like the others (and usable under DANCE, whose range aggregation works
on maps shaped like the input), it is resized bilinearly to the input's H × W
(``tf.image.resize``, half-pixel centres) and repeated over the input's channels, so the map
is shaped like the input: (N, H, W, C), every channel equal.
"""

from __future__ import annotations

import weakref

import keras
import tensorflow as tf
from keras import layers as kl

from dance_tf.errors import InputError, LayerError
from dance_tf.layers import resolve_layer, walk
from dance_tf.saliency import checks
from dance_tf.saliency._core import compiled, explained, finish, num_classes, to_batch, to_targets

_TAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _own_layers(model) -> list:
    return [lay for lay in model.layers if not isinstance(lay, kl.InputLayer)]


def _run_capturing(model, path: tuple, target, tensor):
    """Call ``model`` on a symbolic ``tensor``, returning (output, output of ``target``);
    ``path`` lists the nested models that enclose ``target``, outermost first."""
    captured = []

    def call(layer, *args, **kwargs):
        if path and layer is path[0]:
            out, cap = _run_capturing(layer, path[1:], target, args[0])
            captured.append(cap)
            return out
        out = layer(*args, **kwargs)
        if layer is target:
            captured.append(out)
        return out

    if isinstance(model, keras.Sequential):
        h = tensor
        for lay in _own_layers(model):
            h = call(lay, h)
    elif hasattr(model, "_operations") or hasattr(model, "_nodes_by_depth"):
        twin = keras.models.clone_model(model, clone_function=lambda lay: lay,
                                        call_function=call)
        if len(captured) != 1:
            raise LayerError(f"layer: {target.name!r} is called {len(captured)} times in "
                             f"{model.name!r}; Grad-CAM needs a layer called once")
        h, cap = keras.Model(twin.inputs, [twin.outputs[0], captured[0]])(tensor)
        return h, cap
    else:
        raise TypeError(f"model: cannot trace inside {type(model).__name__}; Grad-CAM needs "
                        "Sequential or functional models (nested ones included)")
    if len(captured) != 1:
        raise LayerError(f"layer: {target.name!r} is called {len(captured)} times in "
                         f"{model.name!r}; Grad-CAM needs a layer called once")
    return h, captured[0]


def conv_layers(model) -> list[str]:
    """Names of the layers with a 4-D output (N, h, w, K), the ones Grad-CAM can use."""
    names = []
    for _, lay in walk(model):
        try:
            rank = len(lay.output.shape)
        except (AttributeError, ValueError):
            continue
        if rank == 4:
            names.append(lay.name)
    return names


def default_layer(model) -> str:
    """Name of the last layer with a 4-D output (N, h, w, K): the last conv/pool block."""
    names = conv_layers(model)
    if not names:
        raise LayerError("layer: the model has no layer with a 4-D (N, h, w, K) output; "
                         "Grad-CAM needs a convolutional layer")
    return names[-1]


def tap_model(model, layer: str | int | None, input_shape: tuple[int, ...]) -> keras.Model:
    """A model x → [logits, activations of ``layer``] sharing ``model``'s weights (cached).

    layer: a name, slim end-point spelling or Table S1 index (``dance_tf.layers``), or
    None for ``default_layer``; nested Sequential/functional models are traced through.
    """
    name = default_layer(model) if layer is None else layer
    key = (name, tuple(input_shape))
    per_model = _TAPS.setdefault(model, {})
    if key not in per_model:
        try:
            choice = resolve_layer(model, name)
        except LayerError as err:
            raise LayerError(f"{err}. Grad-CAM's layers (4-D outputs) in this model: "
                             f"{conv_layers(model)}") from None
        inp = keras.Input(shape=tuple(input_shape))
        out, act = _run_capturing(model, choice.path, choice.layer, inp)
        if len(act.shape) != 4:
            raise LayerError(f"layer: {choice.name!r} outputs shape {act.shape}; Grad-CAM "
                             "needs a 4-D (N, h, w, K) activation")
        per_model[key] = keras.Model(inp, [out, act], name=f"{model.name}_gradcam_tap")
    return per_model[key]


def _gradcam_graph(tap, x, targets, resize: bool):
    with tf.GradientTape() as tape:
        logits, act = tap(x, training=False)
        chosen = tf.gather(logits, targets, axis=1, batch_dims=1)
    grads = tape.gradient(chosen, act)  # (N, h, w, K)
    weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * act, axis=-1, keepdims=True))  # (N, h, w, 1)
    if not resize:
        return cam[..., 0]
    cam = tf.image.resize(cam, tf.shape(x)[1:3], method="bilinear")
    return tf.broadcast_to(cam, tf.shape(x))


def gradcam(model, x, targets, layer: str | int | None = None, resize: bool = True):
    """Grad-CAM of the target logit at a convolutional layer.

    x: (N, H, W, C) images; targets: (N,) ints; layer: the conv layer by name (nested
    models are searched), slim spelling or Table S1 index; None picks the last layer with
    a 4-D output. resize: True (default) returns (N, H, W, C) maps — the (h, w) map resized
    bilinearly to H × W and repeated over the C channels; False returns the raw (N, h, w)
    map at the layer's resolution. Maps are ≥ 0 (ReLU of the weighted activations).
    """
    layer, resize = checks.layer_name(layer), checks.flag("resize", resize)
    model = explained(model)   # the contract's logits (§2)
    x, was_numpy = to_batch(x, model=model)
    if len(x.shape) != 4:
        raise checks.passing(InputError(f"x: expected images (N, H, W, C), got shape "
                                        f"{tuple(x.shape)}"))
    t = to_targets(targets, x.shape[0], num_classes(model))
    try:
        tap = tap_model(model, layer, tuple(x.shape[1:]))
    except (LayerError, TypeError) as err:   # keep its type when raised while tracing
        raise checks.passing(err) from None
    fn = compiled(model, ("gradcam", tap.name, id(tap), bool(resize)),
                  lambda: lambda a, b: _gradcam_graph(tap, a, b, bool(resize)))
    return finish(fn(x, t), was_numpy, model, x)
