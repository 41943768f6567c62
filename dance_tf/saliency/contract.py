"""What a base method must return, checked where a user's method is called (§2, S9).

A base method maps a batch x (N, *S) to maps (N, *S) of real numbers. A user's callable
that returns None, text, or maps of another shape ((N,) scores would broadcast into a
constant map under DANCE's aggregation) is refused with an ``InputError`` / ``TypeError``
naming the method and both shapes, the moment it returns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dance_tf.errors import InputError
from dance_tf.saliency.checks import passing


def _shape(value) -> tuple:
    return tuple(value.shape) if tf.is_tensor(value) else tuple(np.shape(value))


def check_maps(name: str, maps, inputs):
    """Return ``maps`` unchanged if they are real numbers shaped like ``inputs`` (N, *S);
    else raise (``TypeError`` for the kind, ``InputError`` for the shape), naming method
    ``name``. Unknown (traced) dimensions are taken as matching."""
    want = _shape(inputs)
    if maps is None:
        raise passing(InputError(f"method {name!r} returned None; a base method returns "
                                 f"maps shaped like its inputs {want}"))
    if tf.is_tensor(maps):
        if not (maps.dtype.is_floating or maps.dtype.is_integer):
            raise passing(TypeError(f"method {name!r} returned a {maps.dtype.name} tensor; "
                                    "expected real-valued maps"))
        have = tf.TensorShape(maps.shape)
        if have.rank is not None and not have.is_compatible_with(tf.TensorShape(want)):
            raise passing(InputError(f"method {name!r} returned maps of shape "
                                     f"{tuple(have)}; expected the inputs' shape {want}"))
        return maps
    try:
        arr = np.asarray(maps)
    except ValueError as err:   # ragged nesting
        raise passing(TypeError(f"method {name!r} returned {type(maps).__name__} that is "
                                f"not an array ({err})")) from None
    if arr.dtype.kind not in "fiu":
        raise passing(TypeError(f"method {name!r} returned {type(maps).__name__} of dtype "
                                f"{arr.dtype}; expected real-valued maps"))
    if None not in want and arr.shape != want:
        raise passing(InputError(f"method {name!r} returned maps of shape {arr.shape}; "
                                 f"expected the inputs' shape {want}"))
    return maps


def checked_method(name: str, fn: Callable) -> Callable:
    """``fn`` (a user's base method) with its output checked by :func:`check_maps` on
    every call; its signature, name and ``graph_safe`` mark are kept. Idempotent."""
    if getattr(fn, "dance_checked", False):
        return fn

    @functools.wraps(fn)
    def method(model, inputs, targets, **options):
        return check_maps(name, fn(model, inputs, targets, **options), inputs)

    method.dance_checked = True
    return method
