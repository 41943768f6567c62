"""The explainers ``dance_tf.explain`` reuses: one per model object and settings (most
recently used last, at most ``_CACHE_SIZE``), so a loop over ``explain`` compiles once."""

from __future__ import annotations

import hashlib
import inspect
from collections import OrderedDict

import numpy as np
import tensorflow as tf

#: explainers reused by ``explain`` (most recently used last), at most ``_CACHE_SIZE``
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


def _hashable(value):
    """A hashable, exact stand-in for an option value (arrays by content, not repr)."""
    if isinstance(value, np.ndarray) or tf.is_tensor(value):
        arr = np.asarray(value)
        return ("array", arr.shape, arr.dtype.str, hashlib.sha256(arr.tobytes()).hexdigest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def cached_explainer(model, **settings):
    """An ``Explainer(model, **settings)`` reused across calls with the same model object
    and equal settings (so a loop over ``explain`` compiles once). The cache holds the
    last ``_CACHE_SIZE`` explainers (and so their models); ``_CACHE.clear()`` empties it."""
    from dance_tf.explainer import Explainer

    bound = inspect.signature(Explainer.__init__).bind(None, model, **settings)
    bound.apply_defaults()   # explain(model, x) and cached_explainer(model) share a key
    canon = {k: v for k, v in bound.arguments.items() if k not in ("self", "model")}
    key = (id(model), _hashable(canon))
    hit = _CACHE.get(key)
    if hit is not None and hit.model is model:
        _CACHE.move_to_end(key)
        return hit
    explainer = Explainer(model, **settings)
    _CACHE[key] = explainer
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return explainer
