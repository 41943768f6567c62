"""Running reductions over noisy gradients (SmoothGrad-style sampling, S9).

The noise is the same as SmoothGrad's (``smoothgrad.noisy_gradient_sum``): sample i of a
batch adds σ·N(0, 1) drawn by ``tf.random.stateless_normal(shape(x), seed=[seed, i])`` with
σ = noise × (max − min) of each input, so VarGrad, SmoothGrad-range and SmoothGrad at the
same seed see identical noisy copies. Samples are chunked in-graph (one ``tf.while_loop``),
so memory is bounded by ``batch_size`` model evaluations whatever the sample count.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from dance_tf.saliency._core import logit_gradients, per_chunk
from dance_tf.saliency.smoothgrad import noise_scale


def noisy_gradient_fold(model, x, targets, samples: int, noise: float, seed,
                        batch_size: int, init: tuple, fold: Callable) -> tuple:
    """Fold ``fold(state, g) -> state`` over chunks g (k, N, ...) of noisy logit gradients.

    init: the initial state (a tuple of tensors); returns the final state.
    """
    sigma = noise_scale(x, noise)
    k = min(per_chunk(x.shape[0], batch_size), int(samples))
    n_chunks = -(-int(samples) // k)

    def body(i, state):
        idx = tf.range(i * k, tf.minimum(i * k + k, samples))

        def one_noise(j):
            return tf.random.stateless_normal(tf.shape(x), seed=tf.stack([seed, j]))

        eps = tf.map_fn(one_noise, idx, fn_output_signature=tf.float32)  # (k, N, ...)
        points = x[None] + sigma[None] * eps
        flat = tf.reshape(points, tf.concat([[-1], tf.shape(x)[1:]], 0))
        g = logit_gradients(model, flat, tf.tile(targets, [tf.size(idx)]))
        return i + 1, fold(state, tf.reshape(g, tf.shape(points)))

    _, state = tf.while_loop(lambda i, _: i < n_chunks, body, (tf.constant(0), tuple(init)))
    return state
