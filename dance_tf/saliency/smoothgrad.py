"""SmoothGrad (Smilkov et al. 2017; §2 of the paper): mean gradient over noisy copies."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency._core import DEFAULT_BATCH_SIZE
from dance_tf.saliency._noisy import noise_scale, noisy_gradient_fold, sampled_method

__all__ = ["smoothgrad", "noisy_gradient_sum", "noise_scale"]


def noisy_gradient_sum(model, x, targets, samples: int, noise: float, seed, batch_size: int):
    """Σ over ``samples`` noisy copies of ∇ logit (in-graph, chunked; reproducible from
    ``seed`` and the sample index, independent of ``batch_size``)."""
    (total,) = noisy_gradient_fold(model, x, targets, samples, noise, seed, batch_size,
                                   (tf.zeros_like(x),),
                                   lambda state, g: (state[0] + tf.reduce_sum(g, 0),))
    return total


def _mean_graph(model, x, targets, seed, samples: int, noise: float, batch_size: int):
    return noisy_gradient_sum(model, x, targets, samples, noise, seed, batch_size) / samples


def smoothgrad(model, x, targets, samples: int = 50, noise: float = 0.15, seed: int = 0,
               batch_size: int = DEFAULT_BATCH_SIZE):
    """SmoothGrad: mean of logit gradients at x + N(0, σ²), σ = noise × (max − min of x).

    x: (N, ...); targets: (N,) ints; samples: noisy copies per input; noise: relative
    level (0.15 as in Smilkov et al.); seed: int; batch_size: model evaluations per chunk.
    Returns maps shaped like x.
    """
    return sampled_method("smoothgrad", _mean_graph, model, x, targets, samples, noise, seed,
                          batch_size)
