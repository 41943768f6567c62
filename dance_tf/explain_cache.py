"""The explainers ``dance_tf.explain`` reuses: one per model object and settings (most
recently used last, at most ``_CACHE_SIZE``), so a loop over ``explain`` compiles once.

Settings are keyed by value (:func:`value_key`), never by ``id()`` alone: Python reuses the
id of a freed object, so an id key could hand back the explainer of a different base
method (issue 24). Objects without a value (callables, models) are keyed by identity
through :class:`Same`, which holds a reference, so their id cannot be reused while the key
lives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from collections import OrderedDict

import numpy as np
import tensorflow as tf

#: explainers reused by ``explain`` (most recently used last), at most ``_CACHE_SIZE``
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


class Same:
    """An identity key that keeps its object alive (equal only to a key of that object)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self) -> int:
        return hash(id(self.obj))

    def __eq__(self, other) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    def __repr__(self) -> str:
        return f"Same({self.obj!r})"


def value_key(value):
    """A hashable encoding of an option value, equal exactly when the values are equal:
    arrays and tensors by dtype, shape and a SHA-256 of their bytes; lists, tuples, dicts
    (sorted by key) and dataclasses (e.g. ``saliency.BaseMethod``) field by field; numbers
    and text with their type (so ``1``, ``1.0`` and ``True`` differ); anything else by
    identity (:class:`Same`, which holds a reference)."""
    if isinstance(value, np.ndarray) or tf.is_tensor(value) or isinstance(value, np.generic):
        arr = np.ascontiguousarray(np.asarray(value))
        if arr.dtype == object:
            return ("object-array", arr.shape, tuple(value_key(v) for v in arr.ravel()))
        return ("array", arr.dtype.str, arr.shape, hashlib.sha256(arr.tobytes()).hexdigest())
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(value_key(v) for v in value)
    if isinstance(value, dict):
        items = [(value_key(k), value_key(v)) for k, v in value.items()]
        return ("dict",) + tuple(sorted(items, key=repr))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__,) + tuple(
            (f.name, value_key(getattr(value, f.name))) for f in dataclasses.fields(value))
    return ("same", Same(value))


def cached_explainer(model, **settings):
    """An ``Explainer(model, **settings)`` reused across calls with the same model object
    and equal settings (so a loop over ``explain`` compiles once). The cache holds the
    last ``_CACHE_SIZE`` explainers (and so their models); ``_CACHE.clear()`` empties it."""
    from dance_tf.explainer import Explainer

    bound = inspect.signature(Explainer.__init__).bind(None, model, **settings)
    bound.apply_defaults()   # explain(model, x) and cached_explainer(model) share a key
    canon = {k: v for k, v in bound.arguments.items() if k not in ("self", "model")}
    key = (Same(model), value_key(canon))
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    explainer = Explainer(model, **settings)
    _CACHE[key] = explainer
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return explainer
