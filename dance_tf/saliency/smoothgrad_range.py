"""SmoothGrad with range aggregation (S9 of the paper, "SGradRange"): max − min of the
logit gradients over noisy copies, the aggregation DANCE uses (§3.4, Eq. 3) applied to
SmoothGrad's Gaussian copies instead of decoys."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency._core import (
    DEFAULT_BATCH_SIZE,
    compiled,
    finish,
    num_classes,
    to_batch,
    to_targets,
)
from dance_tf.saliency._noisy import noisy_gradient_fold


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
    if int(samples) < 1:
        raise ValueError(f"samples: expected an integer ≥ 1, got {samples}")
    if not noise >= 0:
        raise ValueError(f"noise: expected a level ≥ 0, got {noise}")
    x, was_numpy = to_batch(x)
    t = to_targets(targets, x.shape[0], num_classes(model))
    key = ("smoothgrad_range", int(samples), float(noise), int(batch_size))
    fn = compiled(model, key, lambda: lambda a, b, s: _range_graph(
        model, a, b, s, int(samples), float(noise), int(batch_size)))
    return finish(fn(x, t, tf.constant(int(seed), tf.int32)), was_numpy)
