"""Argument checks shared by the issue-25 metrics: inputs, maps, targets, masks, options.

Every check raises :class:`dance_tf.errors.InputError` (a ValueError) or ``TypeError`` with a
message naming the argument. Maps may hold one score per *feature* — shape ``(N, *F)``
where ``F`` are the leading axes of each input (pixels ``(H, W)`` of an ``(H, W, C)`` image,
words of a text) — or one score per input element (the shape of ``x``).
"""

from __future__ import annotations

import warnings

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError

#: what a model-based metric scores: the target's softmax probability (the standard in
#: Petsiuk et al. 2018, Bhatt et al. 2020, Rong et al. 2022) or its logit
OUTPUTS = ("probability", "logit")


def batch(name: str, value, *, min_ndim: int = 2, dtype=np.float32) -> np.ndarray:
    """A finite batch ``(N, ...)`` of ``dtype`` with N ≥ 1 and at least ``min_ndim`` axes."""
    arr = validate.finite_array(name, value, dtype=dtype)
    if arr.ndim < min_ndim or arr.shape[0] < 1:
        raise InputError(f"{name}: expected a batch with at least {min_ndim} axes (N, ...), "
                         f"got shape {arr.shape}")
    return arr


def feature_maps(maps, x_shape: tuple[int, ...], name: str = "maps") -> np.ndarray:
    """Maps (N, *F) with F a leading part of the inputs' (N, *X) shape, as float64."""
    m = validate.finite_array(name, maps, dtype=np.float64)
    f = m.shape[1:]
    if m.ndim < 2 or m.shape[0] != x_shape[0] or f != tuple(x_shape[1:1 + len(f)]):
        raise InputError(f"{name}: expected (N, *F) with N = {x_shape[0]} and F the leading "
                         f"axes of each input {tuple(x_shape[1:])}, got shape {m.shape}")
    return m


def broadcast_features(per_feature: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """A (B, *F) array as (B, *F, 1, ...) so it broadcasts against (B, *X)."""
    extra = len(x_shape) - per_feature.ndim
    return per_feature.reshape(per_feature.shape + (1,) * extra)


def targets(value, n: int, name: str = "targets") -> np.ndarray:
    """(N,) non-negative integer class indices (int64)."""
    t = np.asarray(value)
    if t.dtype == bool or not (np.issubdtype(t.dtype, np.integer)
                               or (np.issubdtype(t.dtype, np.floating)
                                   and np.all(np.isfinite(t)) and np.all(t == np.round(t)))):
        raise TypeError(f"{name}: expected integer class indices, got an array of {t.dtype}")
    if t.shape != (n,):
        raise InputError(f"{name}: expected shape ({n},), got {t.shape}")
    if np.any(t < 0):
        raise InputError(f"{name}: expected class indices ≥ 0, got {int(t.min())}")
    return t.astype(np.int64)


def fill_value(name: str, value, x_shape: tuple[int, ...]) -> np.ndarray:
    """A finite float32 baseline (a scalar, one input (*X), or (N, *X)) broadcast to the
    inputs' shape (N, *X) as a read-only view."""
    b = validate.finite_array(name, value)
    try:
        return np.broadcast_to(b, x_shape)
    except ValueError:
        raise InputError(f"{name}: shape {b.shape} does not broadcast to the inputs' shape "
                         f"{x_shape}") from None


def output_kind(value) -> str:
    """``"probability"`` or ``"logit"``."""
    if value not in OUTPUTS:
        raise InputError(f"output: expected one of {OUTPUTS}, got {value!r}")
    return value


def count(name: str, value) -> int:
    """An integer ≥ 1 (steps, samples, batch sizes)."""
    return validate.number(name, value, **validate.COUNT)


def undefined(metric: str, bad: np.ndarray, why: str) -> None:
    """Warn (RuntimeWarning) when some scores are NaN because the metric is undefined."""
    if np.any(bad):
        warnings.warn(f"{metric}: {int(np.sum(bad))} of {bad.size} score(s) are NaN ({why})",
                      RuntimeWarning, stacklevel=3)
