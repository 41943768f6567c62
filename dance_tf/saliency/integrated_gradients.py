"""Integrated gradients (Sundararajan et al. 2017; §2 of the paper)."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency import _core as core
from dance_tf.saliency import checks


def _ig_graph(model, x, targets, baseline, steps: int, batch_size: int):
    k = core.chunk_of(x, batch_size, steps)
    diff = x - baseline

    def chunk_grads(idx):
        alphas = (tf.cast(idx, tf.float32) + 0.5) / steps  # midpoint Riemann sum
        a = tf.reshape(alphas, [-1] + [1] * len(x.shape))
        points = baseline[None] + a * diff[None]  # (k, N, ...)
        flat = tf.reshape(points, tf.concat([[-1], tf.shape(x)[1:]], 0))
        g = core.logit_gradients(model, flat, tf.tile(targets, [tf.size(idx)]))
        return tf.reduce_sum(tf.reshape(g, tf.shape(points)), axis=0)

    total = core.chunked_sum(chunk_grads, steps, k, x)
    return diff * total / steps


def integrated_gradients(model, x, targets, steps: int = 50, baseline=None,
                         batch_size: int = core.DEFAULT_BATCH_SIZE):
    """Integrated gradients of the target logit along the straight path baseline → x.

    x: (N, ...); targets: (N,) ints; steps: Riemann midpoints (completeness error O(1/steps²));
    baseline: None (zeros), a scalar, or an array broadcastable to x. ``batch_size`` bounds
    the number of interpolated inputs evaluated at once (steps are chunked in-graph).
    Returns maps shaped like x; their sum ≈ F^c(x) − F^c(baseline).
    """
    steps, batch_size = checks.numbers(steps=steps, batch_size=batch_size)
    baseline = checks.array("baseline", baseline)
    model = core.explained(model)   # the contract's logits (§2)
    x, was_numpy = core.to_batch(x, model=model)
    t = core.to_targets(targets, x.shape[0], core.num_classes(model))
    if baseline is not None:
        checks.broadcast_to("baseline", baseline, tuple(x.shape))
    base = tf.zeros_like(x) if baseline is None else tf.broadcast_to(
        tf.cast(baseline, tf.float32), tf.shape(x))
    fn = core.compiled(model, ("ig", int(steps), int(batch_size)),
                  lambda: lambda a, b, c: _ig_graph(model, a, b, c, int(steps), int(batch_size)))
    return core.finish(fn(x, t, base), was_numpy, model, x)
