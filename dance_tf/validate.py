"""One validation layer for the numbers a user gives (issue 13: nothing silent).

Every number that enters dance_tf from a caller — a bound, ε, a budget, a seed, a count, a
value range — goes through one of these functions where it enters. Each one either returns
the value in a canonical type or raises with a message that names the argument:

    max_steps: expected a finite integer ≥ 1, got nan

Conventions:
  * ``TypeError`` for a value of the wrong kind (a string, a bool, None when not allowed,
    a list where a scalar is expected); ``ValueError`` for a value of the right kind that is
    not acceptable (NaN, ±inf, out of range, lo > hi, shapes that do not broadcast).
  * ``bool`` is never a number here (``True`` is not 1 step).
  * NaN is always refused; ±inf only when the caller passes ``allow_inf=True``.
  * Text is refused by :func:`number`; command-line front ends convert text with
    :func:`number_from_text`, which parses and then applies the same checks.

This module imports numpy only (no TensorFlow), so argument parsers can use it before the
heavy imports.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dance_tf.errors import InputError

__all__ = ["number", "number_from_text", "seed", "fraction", "fractions", "value_range",
           "deviation_bound", "finite_array", "value_range_pair"]

#: ``number`` keywords used across the package (presets of the rules tables)
COUNT = {"low": 1, "integer": True}                     # a whole number ≥ 1
POSITIVE = {"low": 0, "low_open": True}                 # > 0
NONNEG = {"low": 0}                                     # ≥ 0
SHARE = {"low": 0, "low_open": True, "high": 1}         # a factor in (0, 1]

_SEED_MAX = 2**32 - 1   # numpy's legacy RandomState and tf.random.set_seed both accept this


def _describe(integer: bool, low, high, low_open: bool, high_open: bool, allow_none: bool,
              allow_inf: bool) -> str:
    kind = "an integer" if integer else "a number"
    if not allow_inf:
        kind = "a finite " + kind[kind.index(" ") + 1:]
    if low is not None and high is not None:
        rng = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        rng = f" {'>' if low_open else '≥'} {low:g}"
    elif high is not None:
        rng = f" {'<' if high_open else '≤'} {high:g}"
    else:
        rng = ""
    return kind + rng + (" or None" if allow_none else "")


def _shown(value) -> str:
    if isinstance(value, (str, bytes)):
        return f"{value!r} (text)"
    if isinstance(value, (bool, np.bool_)):
        return f"{value!r} (a bool)"
    if isinstance(value, numbers.Real):
        return repr(float(value)) if isinstance(value, float | np.floating) else repr(value)
    return f"{value!r} ({type(value).__name__})"


#: the largest whole number a TensorFlow graph counts with (int32)
INT32_MAX = 2**31 - 1


def number(name: str, value, *, low=None, high=None, low_open: bool = False,
           high_open: bool = False, integer: bool = False, allow_none: bool = False,
           allow_inf: bool = False):
    """Validate one user-given scalar; return it as ``int`` / ``float`` (or None).

    Args:
      name: the argument's name, used in every message.
      value: a Python or numpy real scalar (a 0-d array is accepted).
      low, high: inclusive bounds (exclusive with ``low_open`` / ``high_open``); None = none.
      integer: require a whole number; an integral float such as ``1e3`` is accepted and
        returned as ``int``.
      allow_none: let None through (returned as None).
      allow_inf: let ±inf through (still subject to ``low`` / ``high``).

    Raises:
      TypeError: not a real number (text, bool, None, a sequence, an array of size > 1).
      ValueError: NaN, ±inf (unless allowed), not integral, or out of range.
    """
    want = _describe(integer, low, high, low_open, high_open, allow_none, allow_inf)
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name}: expected {want}, got None")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected {want}, got {_shown(value)}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise InputError(f"{name}: expected {want}, got {_shown(value)}")
    if integer:
        if isinstance(value, numbers.Integral):
            v = int(value)
        elif math.isinf(v):
            pass
        elif v.is_integer():
            v = int(v)
        else:
            raise InputError(f"{name}: expected {want}, got {_shown(value)}")
        # an unbounded count or size still runs in int32 in the graph (seeds set their own)
        if high is None and not math.isinf(v) and abs(v) > INT32_MAX:
            shown = _shown(value) if abs(v) < 1e30 else f"{v:.3g}"
            raise InputError(f"{name}: expected {want} up to {INT32_MAX}, got {shown}")
    if low is not None and (v < low or (low_open and v == low)):
        raise InputError(f"{name}: expected {want}, got {_shown(value)}")
    if high is not None and (v > high or (high_open and v == high)):
        raise InputError(f"{name}: expected {want}, got {_shown(value)}")
    return v


def number_from_text(name: str, text: str, **kw):
    """Parse command-line text into a number, then validate it like :func:`number`.

    ``"12"`` → 12, ``"1e-3"`` → 0.001; ``"nan"`` / ``"inf"`` parse but are then refused
    (unless ``allow_inf``); ``"none"`` is None only with ``allow_none``. Raises ValueError
    naming ``name`` for text that is not a number.
    """
    if not isinstance(text, str):
        return number(name, text, **kw)
    t = text.strip()
    if kw.get("allow_none") and t.lower() == "none":
        return None
    try:
        value = int(t)
    except ValueError:
        try:
            value = float(t)
        except ValueError:
            want = _describe(kw.get("integer", False), kw.get("low"), kw.get("high"),
                             kw.get("low_open", False), kw.get("high_open", False),
                             kw.get("allow_none", False), kw.get("allow_inf", False))
            raise InputError(f"{name}: expected {want}, got {text!r}") from None
    return number(name, value, **kw)


def seed(name: str, value, *, allow_none: bool = False):
    """A random seed: an integer in [0, 2**32 − 1] (what numpy and TF both accept)."""
    return number(name, value, low=0, high=_SEED_MAX, integer=True, allow_none=allow_none)


def fraction(name: str, value, *, low_open: bool = True):
    """A fraction in (0, 1] (or [0, 1] with ``low_open=False``), e.g. a top-K share."""
    return number(name, value, low=0.0, high=1.0, low_open=low_open)


def fractions(name: str, values, *, low_open: bool = True) -> tuple[float, ...]:
    """A non-empty sequence of fractions (see :func:`fraction`); duplicates are refused."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of numbers in (0, 1], got "
                        f"{_shown(values)}")
    out = tuple(fraction(f"{name}[{i}]", v, low_open=low_open) for i, v in enumerate(values))
    if not out:
        raise InputError(f"{name}: expected at least one value, got none")
    if len(set(out)) != len(out):
        raise InputError(f"{name}: repeated value in {list(out)}")
    return out


def _real_array(name: str, value) -> np.ndarray:
    if value is None:
        raise TypeError(f"{name}: expected numbers, got None")
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name}: expected real numbers, got an array of {arr.dtype}")
    return arr


def finite_array(name: str, value, *, dtype=np.float32) -> np.ndarray:
    """Cast to ``dtype`` and refuse NaN / ±inf (also values that overflow ``dtype``).

    The message names the argument, how many entries are bad and the first bad index.
    """
    arr = _real_array(name, value)
    with np.errstate(over="ignore"):
        out = arr.astype(dtype)
    bad = ~np.isfinite(out)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raw = arr[first] if arr.ndim else arr[()]
        raise InputError(f"{name}: expected finite numbers, got {int(bad.sum())} non-finite "
                         f"value(s) (first at index {first}: {raw!r} as {np.dtype(dtype)})")
    return out


def _broadcast(name: str, arrays, shape):
    try:
        if shape is None:
            return np.broadcast_arrays(*arrays)
        return [np.broadcast_to(a, tuple(shape)) for a in arrays]
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        target = f"the input's shape {tuple(shape)}" if shape is not None else "each other"
        raise InputError(f"{name}: bounds of shape {shapes} do not broadcast to "
                         f"{target}") from None


def value_range(lo, hi, shape=None, *, name: str = "value_range"):
    """The legal input range [x_min, x_max] (§3.3): two finite float32 arrays, lo ≤ hi.

    Args:
      lo, hi: scalars or arrays broadcastable to ``shape`` (per feature or per channel).
      shape: the input's shape; None broadcasts lo and hi with each other only.
    Returns:
      (lo, hi) as float32 arrays of the broadcast shape (read-only views when broadcast).
    Raises:
      TypeError for non-numeric bounds; ValueError for NaN / ±inf, lo > hi, or shapes
      that do not broadcast — every message names ``name``.
    """
    lo_a = finite_array(f"{name} (x_min)", lo)
    hi_a = finite_array(f"{name} (x_max)", hi)
    lo_b, hi_b = _broadcast(name, [lo_a, hi_a], shape)
    if np.any(lo_b > hi_b):
        first = tuple(int(i) for i in np.argwhere(lo_b > hi_b)[0])
        raise InputError(f"{name}: x_min exceeds x_max at {int(np.sum(lo_b > hi_b))} "
                         f"place(s) (first at index {first}: {lo_b[first]} > {hi_b[first]})")
    return lo_b, hi_b


def value_range_pair(pair, shape=None, *, name: str = "value_range"):
    """Like :func:`value_range` for a ``(x_min, x_max)`` pair given as one argument.

    Returns a tuple of two new float32 arrays (never views of the caller's arrays), so a
    caller who changes its arrays in place afterwards changes nothing that was checked."""
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise TypeError(f"{name}: expected a pair (x_min, x_max), got {_shown(pair)}")
    lo, hi = value_range(pair[0], pair[1], shape, name=name)
    return np.array(lo), np.array(hi)


def deviation_bound(value, shape=None, *, name: str = "deviation_bound") -> np.ndarray:
    """Per-feature bound b ≥ 0 on |x̃ − x| (Proposition 1): a finite float32 array.

    ±inf is refused: to leave a feature unbounded give the width of its value range.
    """
    b = finite_array(name, value)
    (b,) = _broadcast(name, [b], shape) if shape is not None else (b,)
    if np.any(b < 0):
        first = tuple(int(i) for i in np.argwhere(b < 0)[0])
        raise InputError(f"{name}: expected values ≥ 0, got {b[first]} at index {first}")
    return b

