"""Receptive-field extent of layer ℓ, measured with gradients (for mask packing, S1.1)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.reduce import feature_axes


def receptive_field(f_l, input_shape: tuple[int, ...], lo, hi, trials: int = 4,
                    seed: int = 0) -> int:
    """Largest extent (in input positions, over the feature axes) of the input region that
    one layer-ℓ unit depends on.

    The support of ∂(Σ_channels F_ℓ at the central output position)/∂x is measured at
    ``trials`` random inputs in [lo, hi] and united (ReLU paths that are off at one input
    are on at another). Layer outputs without spatial axes (dense layers) see the whole
    input: the largest feature-axis size is returned.
    """
    k = feature_axes(input_shape)
    rng = np.random.default_rng(seed)
    lo = np.broadcast_to(np.asarray(lo, np.float32), input_shape)
    hi = np.broadcast_to(np.asarray(hi, np.float32), input_shape)
    out_shape = f_l.output_shape
    spatial_out = len(out_shape) - 2  # (N, *spatial, C)
    if spatial_out < 1 or spatial_out != k:
        return int(max(input_shape[:k]))
    centre = tuple(int(s) // 2 for s in out_shape[1:-1])
    support = np.zeros(input_shape[:k], bool)
    for _ in range(trials):
        x = tf.constant((lo + rng.random(input_shape, dtype=np.float32) * (hi - lo))[None])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f_l(x, training=False)
            unit = tf.reduce_sum(y[(0,) + centre])
        g = tape.gradient(unit, x)
        if g is None:
            return int(max(input_shape[:k]))
        g = np.abs(g.numpy()[0])
        support |= g.reshape(g.shape[:k] + (-1,)).max(axis=-1) > 0
    if not support.any():
        return 1
    extents = [np.ptp(np.nonzero(support.any(axis=tuple(b for b in range(k) if b != a)))[0]) + 1
               for a in range(k)]
    return int(max(extents))
