"""Short content digests: of numbers, of a model's weights, of one input; and the JSON form
of settings (arrays by digest) that a configuration records."""

from __future__ import annotations

import hashlib

import numpy as np


def digest(value) -> str | None:
    """A short content digest of numbers (arrays, scalars, nested tuples); None stays."""
    if value is None:
        return None
    h = hashlib.sha256()
    parts = value if isinstance(value, (tuple, list)) else [value]
    for part in parts:
        arr = np.ascontiguousarray(np.asarray(part, dtype=np.float64))
        h.update(repr(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def weight_name(model, weight) -> str:
    """The weight's path inside ``model`` (``conv1/kernel``). Keras 3 prefixes the paths of
    a model built in this process with the model's name (``digits_cnn/conv1/kernel``) but
    not those of the same model loaded from a ``.keras`` file, so the prefix is dropped:
    a model trained here and the same model reloaded get one digest."""
    path = str(getattr(weight, "path", None) or getattr(weight, "name", ""))
    prefix = f"{getattr(model, 'name', '')}/"
    return path[len(prefix):] if prefix != "/" and path.startswith(prefix) else path


def model_digest(model) -> str:
    """Digest of what the model computes with: its class name and, in order, every weight's
    name inside the model (:func:`weight_name`), shape, dtype and values."""
    h = hashlib.sha256(type(model).__name__.encode())
    for w in getattr(model, "weights", []):
        arr = np.ascontiguousarray(np.asarray(w))
        h.update(f"{weight_name(model, w)}{arr.shape}{arr.dtype}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def input_digest(x: np.ndarray) -> str:
    """Digest of one input as explained (float32 values and shape)."""
    arr = np.ascontiguousarray(np.asarray(x, np.float32))
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()[:16]


def jsonable(value):
    """``value`` as JSON: keys as text and sorted, arrays as shape and digest, other
    objects by their repr."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray):
        return {"array": list(value.shape), "sha256": digest(value)}
    return repr(value)
