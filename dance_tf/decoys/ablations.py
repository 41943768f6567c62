"""Ablations of the decoy generation (§4.3): constant and Gaussian-noise perturbations.

Both keep the masks and the range aggregation of DANCE and replace only how each masked
region is perturbed: by a constant (the mean pixel of the input per channel by default,
or the mean embedding of the dictionary for text, passed as ``constant``), or by Gaussian
noise N(0, σ²), σ = ``noise_level`` × (x_max − x_min), clipped to the legal range. The
strategy objects that use them are in ``dance_tf.decoys.perturbations``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.errors import InputError

PERTURBATIONS = ("decoys", "constant", "noise")


def constant_inputs(x, masks, value) -> tf.Tensor:
    """Each item's input x with its mask's region set to ``value``: (k, *S). x, value:
    (k, *S), or (1, *S) when shared; masks (k, *S) 0/1."""
    return masks * value + (1.0 - masks) * x


def noise_inputs(x, masks, lo, hi, noise_level: float, seeds) -> tf.Tensor:
    """Each item's input x plus masked Gaussian noise, clipped to [lo, hi]: (k, *S).
    x, lo, hi: (k, *S) or (1, *S); seeds (k, 2), one per item."""
    from dance_tf.decoys.adam import per_item_normal

    eps = per_item_normal(tf.shape(x)[1:], seeds)
    sigma = noise_level * (hi - lo)
    return tf.clip_by_value(x + masks * eps * sigma, lo, hi)


def default_constant(x) -> tf.Tensor:
    """The mean value of x over its feature axes, per channel (the "mean pixel")."""
    if len(x.shape) <= 1:
        return tf.reduce_mean(x)
    axes = list(range(len(x.shape) - 1))
    return tf.reduce_mean(x, axis=axes)


def broadcast_constant(value, shape) -> np.ndarray:
    """The user's ``constant`` as a float32 array of the input's ``shape`` (*S), a copy;
    a value that does not broadcast is an ``InputError`` naming both shapes."""
    value = np.asarray(value, np.float32)
    try:
        return np.broadcast_to(value, tuple(shape)).copy()
    except ValueError:
        raise InputError(f"constant: shape {value.shape} does not broadcast to the input's "
                         f"shape {tuple(shape)} (give a scalar, one value per channel or "
                         "the input's shape)") from None


def constant_for(constant, perturbation: str, x) -> np.ndarray:
    """The constant the pipeline gets for x (*S): the user's ``constant``, the mean pixel
    for the constant ablation, else 0 (unused), broadcast to x's shape."""
    if constant is not None:
        return broadcast_constant(constant, np.shape(x))
    if perturbation == "constant":
        value = default_constant(tf.constant(x)).numpy()
    else:
        value = np.float32(0.0)
    return np.broadcast_to(value, np.shape(x))
