"""Integrated gradients with a uniform-noise baseline (Sturmfels et al. 2020; S9 of the
paper, "IntUniform")."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.saliency import checks
from dance_tf.saliency._core import (
    DEFAULT_BATCH_SIZE,
    compiled,
    explained,
    finish,
    num_classes,
    to_batch,
    to_targets,
)
from dance_tf.saliency.integrated_gradients import integrated_gradients


def range_bounds(x: tf.Tensor, baseline_range) -> tuple[tf.Tensor, tf.Tensor]:
    """Lower and upper bounds broadcastable to x: the given (lo, hi) (scalars or arrays
    broadcastable to one input, e.g. per channel), or each input's own min and max."""
    if baseline_range is None:
        axes = list(range(1, len(x.shape)))
        return (tf.reduce_min(x, axis=axes, keepdims=True),
                tf.reduce_max(x, axis=axes, keepdims=True))
    lo, hi = baseline_range
    return tf.cast(lo, tf.float32), tf.cast(hi, tf.float32)


def uniform_draws(x: tf.Tensor, lo, hi, seed, index) -> tf.Tensor:
    """One uniform draw in [lo, hi) shaped like x, from the stateless seed [seed, index]."""
    u = tf.random.stateless_uniform(tf.shape(x), seed=tf.stack([seed, index]))
    return lo + u * (hi - lo)


def _graph(model, x, targets, seed, lo, hi, steps: int, samples: int, batch_size: int):
    n = tf.shape(x)[0]
    bases = tf.map_fn(lambda j: uniform_draws(x, lo, hi, seed, j), tf.range(samples),
                      fn_output_signature=tf.float32)  # (S, N, ...)
    flat_shape = tf.concat([[-1], tf.shape(x)[1:]], 0)
    tiled = tf.reshape(tf.tile(x[None], [samples] + [1] * len(x.shape)), flat_shape)
    maps = integrated_gradients(model, tiled, tf.tile(targets, [samples]), steps=steps,
                                baseline=tf.reshape(bases, flat_shape),
                                batch_size=batch_size)
    maps = tf.reshape(maps, tf.concat([[samples, n], tf.shape(x)[1:]], 0))
    return tf.reduce_mean(maps, axis=0)


def ig_uniform(model, x, targets, steps: int = 25, samples: int = 1, seed: int = 0,
               baseline_range=None, batch_size: int = DEFAULT_BATCH_SIZE):
    """Integrated gradients from baselines drawn uniformly over the legal input range.

    x: (N, ...); targets: (N,) ints; steps: Riemann midpoints per path (25, PAIR's default,
    S9); samples: baselines per input, averaged (1 = one uniform baseline, as Sturmfels et
    al.'s "uniform" baseline); seed: int (baseline j of every input comes from the stateless
    seed [seed, j]); baseline_range: (lo, hi) scalars or arrays broadcastable to one input,
    e.g. (−mean, 255 − mean) per channel; default each input's own [min, max] (named apart
    from the explainer's ``value_range`` so that it passes through DANCE's method options;
    under DANCE set it, or each decoy's own range is used). batch_size
    bounds the interpolated inputs per chunk (samples × N inputs at least). Returns maps
    shaped like x; for one baseline b their sum ≈ F^c(x) − F^c(b).
    """
    steps, samples, seed, batch_size = checks.numbers(steps=steps, samples=samples, seed=seed,
                                                      batch_size=batch_size)
    baseline_range = checks.value_pair("baseline_range", baseline_range)
    model = explained(model)   # the contract's logits (§2)
    x, was_numpy = to_batch(x, model=model)
    t = to_targets(targets, x.shape[0], num_classes(model))
    has_range = baseline_range is not None
    if has_range:
        for bound in baseline_range:
            checks.broadcast_to("baseline_range", bound, tuple(x.shape))
    lo, hi = (tf.constant(0.0), tf.constant(0.0)) if not has_range else range_bounds(
        x, baseline_range)

    def build():
        def run(a, b, s, low, high):
            if not has_range:
                low, high = range_bounds(a, None)
            return _graph(model, a, b, s, low, high, int(steps), int(samples), int(batch_size))
        return run

    fn = compiled(model, ("ig_uniform", int(steps), int(samples), int(batch_size), has_range),
                  build)
    return finish(fn(x, t, tf.constant(int(seed), tf.int32), lo, hi), was_numpy, model, x)
