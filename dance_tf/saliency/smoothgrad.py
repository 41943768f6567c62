"""SmoothGrad (Smilkov et al. 2017; §2 of the paper): mean gradient over noisy copies."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency._core import (
    DEFAULT_BATCH_SIZE,
    chunked_sum,
    compiled,
    finish,
    logit_gradients,
    num_classes,
    per_chunk,
    to_batch,
    to_targets,
)


def noise_scale(x: tf.Tensor, noise: float) -> tf.Tensor:
    """σ per input = noise × (max(x) − min(x)) of that input, shaped (N, 1, ..., 1)."""
    axes = list(range(1, len(x.shape)))
    spread = tf.reduce_max(x, axis=axes, keepdims=True) - tf.reduce_min(x, axis=axes,
                                                                      keepdims=True)
    return noise * spread


def noisy_gradient_sum(model, x, targets, samples: int, noise: float, seed: int,
                       batch_size: int, transform=None):
    """Σ over ``samples`` noisy copies of transform(∇ logit) (in-graph, chunked).

    Noise is stateless-random from ``seed`` and the sample index, so results are
    reproducible and independent of ``batch_size``.
    """
    sigma = noise_scale(x, noise)
    k = per_chunk(x.shape[0], batch_size)

    def chunk_grads(idx):
        def one_noise(i):
            return tf.random.stateless_normal(tf.shape(x), seed=tf.stack([seed, i]))
        eps = tf.map_fn(one_noise, idx, fn_output_signature=tf.float32)  # (k, N, ...)
        points = x[None] + sigma[None] * eps
        flat = tf.reshape(points, tf.concat([[-1], tf.shape(x)[1:]], 0))
        g = logit_gradients(model, flat, tf.tile(targets, [tf.size(idx)]))
        g = tf.reshape(g, tf.shape(points))
        if transform is not None:
            g = transform(g)
        return tf.reduce_sum(g, axis=0)

    return chunked_sum(chunk_grads, samples, k, x)


def smoothgrad(model, x, targets, samples: int = 50, noise: float = 0.15, seed: int = 0,
               batch_size: int = DEFAULT_BATCH_SIZE):
    """SmoothGrad: mean of logit gradients at x + N(0, σ²), σ = noise × (max − min of x).

    x: (N, ...); targets: (N,) ints; samples: noisy copies per input; noise: relative
    level (0.15 as in Smilkov et al.); seed: int. Returns maps shaped like x.
    """
    if int(samples) < 1:
        raise ValueError(f"samples: expected an integer ≥ 1, got {samples}")
    if not noise >= 0:
        raise ValueError(f"noise: expected a level ≥ 0, got {noise}")
    x, was_numpy = to_batch(x)
    t = to_targets(targets, x.shape[0], num_classes(model))
    key = ("smoothgrad", int(samples), float(noise), int(batch_size))
    fn = compiled(model, key, lambda: lambda a, b, s: noisy_gradient_sum(
        model, a, b, int(samples), float(noise), s, int(batch_size)) / samples)
    return finish(fn(x, t, tf.constant(int(seed), tf.int32)), was_numpy)
