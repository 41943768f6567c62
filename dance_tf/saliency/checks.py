"""The base methods' own options, checked where they enter (issue 24: nothing silent).

The numbers use the presets of ``dance_tf.validate`` (the explainer's options use the same
ones): ``samples`` / ``steps`` / ``batch_size`` are whole numbers ≥ 1 (``2.5`` and ``True``
refused), ``noise`` a level in [0, 1e6], ``seed`` a seed in int32. Arrays are checked finite and
copied, so a caller who changes them in place later changes nothing here. Every refusal is
a ``DanceError`` (``InputError``, ``LayerError``) or a ``TypeError`` naming the option.

Errors raised while TensorFlow traces a base method would reach the caller as autograph's
``StagingError``; :func:`passing` marks them so that they keep their own type and message.
"""

from __future__ import annotations

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError

#: the largest count or seed: TensorFlow loops over them, and seeds them, in int32
INT32_MAX = 2**31 - 1

#: number option → ``validate.number`` keywords (every numeric option of a built-in method)
NUMBERS = {
    "samples": {**validate.COUNT, "high": INT32_MAX},
    "steps": {**validate.COUNT, "high": INT32_MAX},
    "batch_size": validate.COUNT,   # only bounds chunks (never above steps / samples)
    # σ = noise × (max − min of x): above 1e6 the noisy copies overflow float32 (a NaN map)
    # long before any use (SmoothGrad's levels are 0.1–0.2)
    "noise": {**validate.NONNEG, "high": 1e6},
    "seed": {"low": 0, "high": INT32_MAX, "integer": True},   # stateless seeds [seed, i]
}


def passing(err: BaseException) -> BaseException:
    """Mark ``err`` to pass through autograph unchanged (not re-raised as StagingError):
    TensorFlow's own flag ``ag_pass_through``, and any metadata an inner converted call
    attached dropped."""
    try:
        err.ag_pass_through = True
        if "ag_error_metadata" in vars(err):
            del err.ag_error_metadata
    except (AttributeError, TypeError):   # an exception type with __slots__: as it is
        pass
    return err


def number(name: str, value):
    """One numeric option by its rule in ``NUMBERS``; int or float."""
    return validate.number(name, value, **NUMBERS[name])


def numbers(**values) -> tuple:
    """``numbers(samples=s, noise=n)`` → (s, n) checked, in the order given."""
    try:
        return tuple(number(name, v) for name, v in values.items())
    except (ValueError, TypeError) as err:
        raise passing(err) from None


def flag(name: str, value) -> bool:
    """A bool option (``resize``): True or False, nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise passing(TypeError(f"{name}: expected True or False, got {value!r} "
                                f"({type(value).__name__})"))
    return bool(value)


def layer_name(value):
    """Grad-CAM's ``layer``: None, a name or a 1-based index (checked against the model
    when the method runs)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise passing(TypeError(f"layer: expected a layer name, a 1-based index or None, got "
                                f"{value!r} ({type(value).__name__})"))
    return int(value)


def array(name: str, value, *, allow_none: bool = True):
    """A finite float32 copy of an array option (a tensor stays a tensor: it cannot change
    in place), or None."""
    if value is None and allow_none:
        return None
    if _is_tensor(value):
        return value
    try:
        return validate.finite_array(name, value)
    except (ValueError, TypeError) as err:
        raise passing(err) from None


def value_pair(name: str, value):
    """A ``(lo, hi)`` option such as ``baseline_range``: finite, lo ≤ hi, copied; or None."""
    if value is None:
        return None
    if _is_tensor(value):
        return value
    try:
        lo, hi = validate.value_range_pair(value, name=name)
    except (ValueError, TypeError) as err:
        raise passing(err) from None
    return np.array(lo), np.array(hi)


def broadcast_to(name: str, value, shape: tuple):
    """Check that array option ``value`` broadcasts to the inputs' ``shape`` (N, *S)."""
    have = tuple(np.shape(value)) if not _is_tensor(value) else tuple(value.shape)
    try:
        fits = np.broadcast_shapes(have, tuple(shape)) == tuple(shape)
    except ValueError:
        fits = False
    except TypeError:   # unknown (None) dimensions: TensorFlow checks when it runs
        fits = True
    if not fits:
        raise passing(InputError(
            f"{name}: shape {have} does not broadcast to the inputs' shape {tuple(shape)} "
            "(give a scalar, one input's shape or the batch's)"))


def _is_tensor(value) -> bool:
    import tensorflow as tf

    return tf.is_tensor(value)


def _array_or_none(name):
    return lambda v: array(name, v)


#: option name → its check, for every built-in method (``saliency.get`` applies it)
OPTIONS = {
    **{name: (lambda n: lambda v: number(n, v))(name) for name in NUMBERS},
    "resize": lambda v: flag("resize", v),
    "layer": layer_name,
    "baseline": _array_or_none("baseline"),
    "references": _array_or_none("references"),
    "baseline_range": lambda v: value_pair("baseline_range", v),
}


def built_in_options(options: dict) -> dict:
    """A built-in method's options checked and copied (arrays as finite float32 copies)."""
    out = {}
    for name, value in options.items():
        check = OPTIONS.get(name)
        out[name] = value if check is None else check(value)
    return out
