"""VarGrad (Adebayo et al. 2018, Hooker et al. 2019; S9 of the paper): the variance of the
logit gradients over noisy copies of the input."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency._core import DEFAULT_BATCH_SIZE, logit_gradients
from dance_tf.saliency._noisy import noisy_gradient_fold, sampled_method


def _vargrad_graph(model, x, targets, seed, samples: int, noise: float, batch_size: int):
    # shift by the clean gradient: Var(g) = E[(g − g₀)²] − E[g − g₀]², no float32 cancellation
    g0 = logit_gradients(model, x, targets)

    def fold(state, g):
        d = g - g0[None]
        return state[0] + tf.reduce_sum(d, 0), state[1] + tf.reduce_sum(tf.square(d), 0)

    s1, s2 = noisy_gradient_fold(model, x, targets, samples, noise, seed, batch_size,
                                 (tf.zeros_like(x), tf.zeros_like(x)), fold)
    mean = s1 / samples
    return tf.maximum(s2 / samples - tf.square(mean), 0.0)


def vargrad(model, x, targets, samples: int = 25, noise: float = 0.15, seed: int = 0,
            batch_size: int = DEFAULT_BATCH_SIZE):
    """VarGrad: per-feature variance of logit gradients at x + N(0, σ²), σ = noise × (max −
    min of x), the same noisy copies as ``smoothgrad`` at the same seed.

    x: (N, ...); targets: (N,) ints; samples: noisy copies (25 as PAIR's default, S9);
    noise: relative level; seed: int; batch_size: model evaluations per chunk. Returns
    maps shaped like x, ≥ 0: the population variance (1/samples) of the gradients.
    """
    return sampled_method("vargrad", _vargrad_graph, model, x, targets, samples, noise, seed,
                          batch_size)
