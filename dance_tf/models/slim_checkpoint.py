"""Load a TF-slim checkpoint, by variable name, into a Keras zoo model (S5).

Slim names variables ``<model scope>/<layer scope>/<weights|biases>`` and, for batch
norm, ``<layer scope>/BatchNorm/<gamma|beta|moving_mean|moving_variance>``. The Keras
zoo models name their layers after the same scopes (``/`` → ``.``; see
:mod:`dance_tf.models.slim_nets`), so the mapping is derived from layer names:

================================  ===========================================
Keras layer (class, name)         slim variables
================================  ===========================================
Conv2D ``X`` or ``X.Conv2D``      ``S/X/weights`` (kh, kw, in, out), ``S/X/biases``
BatchNormalization ``X.BatchNorm`` ``S/X/BatchNorm/{gamma,beta,moving_mean,moving_variance}``
================================  ===========================================

with ``S`` the model scope (the model's name by default) and ``X`` the layer name with
``.`` replaced by ``/``. Loading is all-or-nothing: every expected variable is checked
(present, right shape) and read before any weight is assigned; missing, extra or
mis-shaped variables raise :class:`SlimCheckpointError` listing them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf

#: Checkpoint variables under the model scope that are training state, not weights.
IGNORED_SUFFIXES = (
    "/Momentum", "/ExponentialMovingAverage", "/RMSProp", "/RMSProp_1", "/Adam",
    "/Adam_1", "/Adagrad", "/Ftrl", "/Ftrl_1", "/biased", "/local_step",
)

#: Non-weight tensors slim's published checkpoints keep under the model scope
#: (``vgg_16/mean_rgb``, ``resnet_v1_50/mean_rgb``: the RGB means the net was trained
#: with); returned in the report's ``metadata``, never loaded.
METADATA = ("mean_rgb",)

_LOGITS_LAYERS = ("fc8", "logits")
# What TensorFlow's checkpoint reader raises on damaged files (IndexError: short reads).
_READ_ERRORS = (tf.errors.OpError, ValueError, OSError, IndexError, RuntimeError)
_LIST_LIMIT = 12


class SlimCheckpointError(ValueError):
    """The checkpoint cannot fill the model exactly (missing/extra/mis-shaped/unreadable)."""


def _resolve(path: str | os.PathLike) -> str:
    """Checkpoint prefix (V2) or file (V1) for ``path``; directories use their latest."""
    path = os.fspath(path)
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is not None:
            return latest
        found = sorted(f.removesuffix(".index") for f in os.listdir(path)
                       if f.endswith((".index", ".ckpt")))
        if len(found) != 1:
            raise FileNotFoundError(
                f"directory {path!r} has no 'checkpoint' file and "
                f"{'no' if not found else 'several'} checkpoints {found}: pass one path")
        return os.path.join(path, found[0])
    for suffix in (".index", ".data-00000-of-00001", ".meta"):
        if path.endswith(suffix) and not os.path.isfile(path[: -len(suffix)]):
            path = path[: -len(suffix)]
            break
    if os.path.isfile(path) or os.path.isfile(path + ".index"):
        return path
    raise FileNotFoundError(f"no checkpoint at {path!r} (neither a file nor a prefix with .index)")


def _layer_variables(layer: keras.layers.Layer, scope: str) -> list[tuple[str, object]]:
    """(slim name, Keras variable) pairs for one layer; [] for weight-free layers."""
    key = layer.name.replace(".", "/")
    if isinstance(layer, keras.layers.BatchNormalization):
        if not key.endswith("/BatchNorm"):
            raise SlimCheckpointError(
                f"batch-norm layer {layer.name!r} is not named '<scope>.BatchNorm'")
        pairs = [("gamma", layer.gamma), ("beta", layer.beta),
                 ("moving_mean", layer.moving_mean), ("moving_variance", layer.moving_variance)]
        return [(f"{scope}/{key}/{n}", v) for n, v in pairs if v is not None]
    if isinstance(layer, keras.layers.Conv2D):
        key = key.removesuffix("/Conv2D")
        out = [(f"{scope}/{key}/weights", layer.kernel)]
        if layer.use_bias:
            out.append((f"{scope}/{key}/biases", layer.bias))
        return out
    if layer.weights:
        raise SlimCheckpointError(
            f"layer {layer.name!r} ({type(layer).__name__}) has weights but no slim mapping")
    return []


def _walk(model: keras.Model) -> Iterable[keras.layers.Layer]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        else:
            yield layer


def slim_variable_map(model: keras.Model, scope: str | None = None) -> dict[str, object]:
    """``{slim variable name: Keras variable}`` for every weight of ``model``.

    ``scope`` defaults to ``model.name`` (``vgg_16``, ``alexnet_v2``, ``resnet_v1_50``).
    """
    scope = model.name if scope is None else scope.rstrip("/")
    mapping: dict[str, object] = {}
    for layer in _walk(model):
        for name, var in _layer_variables(layer, scope):
            if name in mapping:
                raise SlimCheckpointError(f"two Keras weights map to {name!r}")
            mapping[name] = var
    return mapping


def _fmt(title: str, items: list[str]) -> str:
    shown = "\n    ".join(items[:_LIST_LIMIT])
    more = f"\n    ... and {len(items) - _LIST_LIMIT} more" if len(items) > _LIST_LIMIT else ""
    return f"  {title} ({len(items)}):\n    {shown}{more}"


def load_slim_checkpoint(
    model: keras.Model,
    path: str | os.PathLike,
    *,
    scope: str | None = None,
    drop_background_class: bool = False,
) -> dict:
    """Fill ``model``'s weights in place from the slim checkpoint at ``path`` (S5).

    Parameters
    ----------
    model : a zoo model (:func:`~dance_tf.models.vgg_16`, ``alexnet_v2``,
        ``resnet_v1_50``) or any model following the same layer naming.
    path : checkpoint prefix (``model.ckpt-1234``), V1 single file (``vgg_16.ckpt``
        from slim's published tarballs), an ``.index`` file, or a directory (its
        ``checkpoint`` state file, else its only checkpoint).
    scope : the checkpoint's top-level scope; default ``model.name``.
    drop_background_class : load a 1001-class checkpoint (class 0 = background) into a
        1000-class model by dropping logit 0 of ``fc8``/``logits``. Off by default:
        a class-count mismatch is then an error.

    Returns ``{"loaded": [names], "ignored": [names], "metadata": {name: array}}``;
    ``ignored`` lists checkpoint variables outside ``scope`` (e.g. ``global_step``),
    optimiser/EMA slots and :data:`METADATA` tensors, whose values are in ``metadata``
    (the published ``vgg_16.ckpt`` has ``mean_rgb``: compare it with
    ``dance_tf.data.imagenet.MODES["slim_rgb"].mean``).

    Raises
    ------
    FileNotFoundError if there is no checkpoint at ``path``; SlimCheckpointError if it
    is unreadable (truncated, not a checkpoint) or does not match the model exactly.
    Nothing is assigned unless everything matches.
    """
    scope = model.name if scope is None else scope.rstrip("/")
    prefix = _resolve(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
    except _READ_ERRORS as err:
        raise SlimCheckpointError(
            f"cannot read checkpoint {prefix!r} (truncated or not a TF checkpoint?): "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err

    expected = slim_variable_map(model, scope)
    in_scope = {n for n in shapes if n.startswith(scope + "/")}
    metadata_names = {f"{scope}/{m}" for m in METADATA} & set(shapes)
    ignored = sorted(n for n in shapes
                     if n not in in_scope or n in metadata_names
                     or n.endswith(IGNORED_SUFFIXES)
                     or any(s + "/" in n for s in IGNORED_SUFFIXES))
    if not in_scope & set(expected):
        scopes = sorted({n.split("/", 1)[0] for n in shapes})
        raise SlimCheckpointError(
            f"checkpoint {prefix!r} holds no variable of {model.name!r} under scope "
            f"{scope!r}: wrong checkpoint for this architecture? Its top-level scopes: "
            f"{', '.join(scopes[:_LIST_LIMIT]) or '(none)'}")

    missing, misshaped, sliced = [], [], set()
    for name, var in expected.items():
        want = tuple(var.shape)
        if name not in shapes:
            missing.append(f"{name} {list(want)}")
            continue
        have = tuple(shapes[name])
        if have == want:
            continue
        layer_key = name[len(scope) + 1:].rsplit("/", 1)[0]
        if (drop_background_class and layer_key in _LOGITS_LAYERS
                and have[:-1] == want[:-1] and have[-1] == want[-1] + 1):
            sliced.add(name)
            continue
        misshaped.append(f"{name}: checkpoint {list(have)}, model {list(want)}")
    extra = sorted(n for n in in_scope - set(expected) if n not in ignored)
    if missing or misshaped or extra:
        parts = [f"checkpoint {prefix!r} does not match model {model.name!r}:"]
        if missing:
            parts.append(_fmt("missing from checkpoint", missing))
        if misshaped:
            parts.append(_fmt("shape mismatch", misshaped))
            if any(n.rsplit("/", 2)[-2] in _LOGITS_LAYERS for n in misshaped):
                parts.append("  (class count differs: build the model with the checkpoint's "
                             "num_classes, or pass drop_background_class=True for 1001 -> 1000)")
        if extra:
            parts.append(_fmt("in checkpoint but not in model", extra))
        raise SlimCheckpointError("\n".join(parts))

    values, metadata = {}, {}
    try:
        for name in sorted(metadata_names):
            metadata[name[len(scope) + 1:]] = np.asarray(reader.get_tensor(name))
        for name, var in expected.items():
            value = np.asarray(reader.get_tensor(name))
            if name in sliced:
                value = value[..., 1:]
            values[name] = value.astype(var.dtype)
    except _READ_ERRORS as err:
        raise SlimCheckpointError(
            f"cannot read variable {name!r} from {prefix!r} (truncated data file?): "
            f"{type(err).__name__}") from err
    for name, var in expected.items():
        var.assign(values[name])
    return {"loaded": sorted(expected), "ignored": ignored, "metadata": metadata}


__all__ = ["load_slim_checkpoint", "slim_variable_map", "SlimCheckpointError",
           "IGNORED_SUFFIXES", "METADATA"]
