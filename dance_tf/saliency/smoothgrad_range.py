"""SmoothGrad with range aggregation (S9 of the paper, "SGradRange"): max − min of the
logit gradients over noisy copies, the aggregation DANCE uses (§3.4, Eq. 3) applied to
SmoothGrad's Gaussian copies instead of decoys."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency._core import DEFAULT_BATCH_SIZE
from dance_tf.saliency._noisy import noisy_gradient_fold, sampled_method


def _range_graph(model, x, targets, seed, samples: int, noise: float, batch_size: int):
    def fold(state, g):
        return tf.maximum(state[0], tf.reduce_max(g, 0)), tf.minimum(state[1], tf.reduce_min(g, 0))

    init = (tf.fill(tf.shape(x), -float("inf")), tf.fill(tf.shape(x), float("inf")))
    hi, lo = noisy_gradient_fold(model, x, targets, samples, noise, seed, batch_size, init, fold)
    return hi - lo


def smoothgrad_range(model, x, targets, samples: int = 25, noise: float = 0.15, seed: int = 0,
                     batch_size: int = DEFAULT_BATCH_SIZE):
    """Range (max − min) per feature of logit gradients at x + N(0, σ²), σ = noise × (max −
    min of x), the same noisy copies as ``smoothgrad`` at the same seed.

    x: (N, ...); targets: (N,) ints; samples: noisy copies (25, S9); noise: relative level;
    seed: int; batch_size: model evaluations per chunk. Returns maps shaped like x, ≥ 0.
    """
    return sampled_method("smoothgrad_range", _range_graph, model, x, targets, samples, noise, seed,
                          batch_size)
