"""Running reductions over noisy gradients (SmoothGrad-style sampling, S9).

SmoothGrad, VarGrad and SmoothGrad-range all use this one loop: sample i of a
batch adds σ·N(0, 1) drawn by ``tf.random.stateless_normal(shape(x), seed=[seed, i])`` with
σ = noise × (max − min) of each input, so VarGrad, SmoothGrad-range and SmoothGrad at the
same seed see identical noisy copies. Samples are chunked in-graph (one ``tf.while_loop``),
so memory is bounded by ``batch_size`` model evaluations whatever the sample count.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from dance_tf.saliency import _core as core
from dance_tf.saliency import checks


def noise_scale(x: tf.Tensor, noise: float) -> tf.Tensor:
    """σ per input = noise × (max(x) − min(x)) of that input, shaped (N, 1, ..., 1)."""
    axes = list(range(1, len(x.shape)))
    spread = tf.reduce_max(x, axis=axes, keepdims=True) - tf.reduce_min(x, axis=axes,
                                                                      keepdims=True)
    return noise * spread


def noisy_gradient_fold(model, x, targets, samples: int, noise: float, seed,
                        batch_size: int, init: tuple, fold: Callable) -> tuple:
    """Fold ``fold(state, g) -> state`` over chunks g (k, N, ...) of noisy logit gradients.

    init: the initial state (a tuple of tensors); returns the final state.
    """
    sigma = noise_scale(x, noise)
    k = core.chunk_of(x, batch_size, samples)
    n_chunks = (int(samples) + k - 1) // k

    def body(i, state):
        idx = tf.range(i * k, tf.minimum(i * k + k, samples))

        def one_noise(j):
            return tf.random.stateless_normal(tf.shape(x), seed=tf.stack([seed, j]))

        eps = tf.map_fn(one_noise, idx, fn_output_signature=tf.float32)  # (k, N, ...)
        points = x[None] + sigma[None] * eps
        flat = tf.reshape(points, tf.concat([[-1], tf.shape(x)[1:]], 0))
        g = core.logit_gradients(model, flat, tf.tile(targets, [tf.size(idx)]))
        return i + 1, fold(state, tf.reshape(g, tf.shape(points)))

    _, state = tf.while_loop(lambda i, _: i < n_chunks, body, (tf.constant(0), tuple(init)),
                             parallel_iterations=1)
    return state


def sampled_method(name: str, graph: Callable, model, x, targets, samples: int,
                   noise: float, seed: int, batch_size: int):
    """Validate, compile once per model and settings, and run a sampled method.

    graph(model, x, targets, seed, samples, noise, batch_size) -> maps is the method's
    in-graph reduction (built on ``noisy_gradient_fold``). Numpy in → numpy out.
    """
    samples, noise, seed, batch_size = checks.numbers(samples=samples, noise=noise, seed=seed,
                                                      batch_size=batch_size)
    model = core.explained(model)   # the contract's logits (§2)
    x, was_numpy = core.to_batch(x, model=model)
    t = core.to_targets(targets, x.shape[0], core.num_classes(model))
    key = (name, int(samples), float(noise), int(batch_size))
    fn = core.compiled(model, key, lambda: lambda a, b, sd: graph(
        model, a, b, sd, int(samples), float(noise), int(batch_size)))
    return core.finish(fn(x, t, tf.constant(int(seed), tf.int32)), was_numpy, model, x)
