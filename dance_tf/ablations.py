"""Ablations of the decoy generation (§4.3): constant and Gaussian-noise perturbations.

Both keep the masks and the range aggregation of DANCE and replace only how each masked
region is perturbed: by a constant (the mean pixel of the input per channel by default,
or the mean embedding of the dictionary for text, passed as ``constant``), or by Gaussian
noise N(0, σ²), σ = ``noise_level`` × (x_max − x_min), clipped to the legal range.
"""

from __future__ import annotations

import tensorflow as tf

PERTURBATIONS = ("decoys", "constant", "noise")


def constant_inputs(x, masks, value) -> tf.Tensor:
    """x with each mask's region set to ``value`` (broadcastable to x): (k, *S)."""
    value = tf.broadcast_to(tf.cast(value, tf.float32), tf.shape(x))
    return masks * value[None] + (1.0 - masks) * x[None]


def noise_inputs(x, masks, lo, hi, noise_level: float, seeds) -> tf.Tensor:
    """x plus masked Gaussian noise, clipped to [lo, hi]: (k, *S); seeds (k, 2), one per
    copy."""
    from dance_tf.decoys import per_item_normal

    eps = per_item_normal(tf.shape(x), seeds)
    sigma = noise_level * (hi - lo)
    return tf.clip_by_value(x[None] + masks * eps * sigma[None], lo[None], hi[None])


def default_constant(x) -> tf.Tensor:
    """The mean value of x over its feature axes, per channel (the "mean pixel")."""
    if len(x.shape) <= 1:
        return tf.reduce_mean(x)
    axes = list(range(len(x.shape) - 1))
    return tf.reduce_mean(x, axis=axes)
