"""Expected gradients (Erion et al. 2019, Sturmfels et al. 2020; S9 of the paper, "ExpGrad")."""

from __future__ import annotations

import tensorflow as tf

from dance_tf.errors import InputError
from dance_tf.saliency import _core as core
from dance_tf.saliency import checks
from dance_tf.saliency.ig_uniform import range_bounds, uniform_draws


def _draw(x, refs, lo, hi, seed, j, use_refs: bool):
    """Reference and α for sample j of every input: stateless seeds [seed, j], [seed + 1, j]."""
    n = tf.shape(x)[0]
    if use_refs:
        pick = tf.random.stateless_uniform([n], seed=tf.stack([seed, j]), minval=0,
                                           maxval=tf.shape(refs)[0], dtype=tf.int32)
        ref = tf.gather(refs, pick)
    else:
        ref = uniform_draws(x, lo, hi, seed, j)
    alpha = tf.random.stateless_uniform([n], seed=tf.stack([seed + 1, j]))
    return ref, alpha


def _eg_graph(model, x, targets, refs, lo, hi, seed, samples: int, batch_size: int,
              use_refs: bool):
    k = core.chunk_of(x, batch_size, samples)
    ones = [1] * (len(x.shape) - 1)

    def chunk(idx):
        ref, alpha = tf.map_fn(lambda j: _draw(x, refs, lo, hi, seed, j, use_refs), idx,
                               fn_output_signature=(tf.float32, tf.float32))  # (k, N, ...)
        a = tf.reshape(alpha, tf.concat([tf.shape(alpha), ones], 0))
        points = ref + a * (x[None] - ref)
        flat = tf.reshape(points, tf.concat([[-1], tf.shape(x)[1:]], 0))
        g = tf.reshape(core.logit_gradients(model, flat, tf.tile(targets, [tf.size(idx)])),
                       tf.shape(points))
        return tf.reduce_sum((x[None] - ref) * g, axis=0)

    return core.chunked_sum(chunk, samples, k, x) / samples


def expected_gradients(model, x, targets, references=None, samples: int = 25, seed: int = 0,
                       baseline_range=None, batch_size: int = core.DEFAULT_BATCH_SIZE):
    """Expected gradients: E_{x'∼D, α∼U(0,1)}[(x − x') ∘ ∇F^c(x' + α(x − x'))], Monte Carlo.

    x: (N, ...); targets: (N,) ints; references: (R, ...) reference inputs D (e.g. a
    sample of training images; each sample draws one uniformly, per input), or None for
    references drawn uniformly over ``baseline_range`` ((lo, hi) scalars or arrays
    broadcastable to one input; default each input's own [min, max]; named apart from the
    explainer's ``value_range`` so that it passes through DANCE's method options);
    samples: (reference, α) draws per input (25, S9); seed: int; batch_size: model
    evaluations per chunk. Returns maps shaped like x; with a single reference r their
    expectation is IG from r, and their sum ≈ F^c(x) − E F^c(x').
    """
    samples, seed, batch_size = checks.numbers(samples=samples, seed=seed, batch_size=batch_size)
    baseline_range = checks.value_pair("baseline_range", baseline_range)
    model = core.explained(model)   # the contract's logits (§2)
    x, was_numpy = core.to_batch(x, model=model)
    t = core.to_targets(targets, x.shape[0], core.num_classes(model))
    use_refs = references is not None
    if use_refs:
        refs, _ = core.to_batch(references, "references")
        if refs.shape[1:] != x.shape[1:] or refs.shape[0] == 0:
            raise checks.passing(InputError(
                f"references: expected shape (R, {', '.join(map(str, x.shape[1:]))}) with "
                f"R ≥ 1, got {tuple(refs.shape)}"))
    else:
        refs = tf.zeros([1] + list(x.shape[1:]), tf.float32)
    has_range = baseline_range is not None
    if has_range:
        for bound in baseline_range:
            checks.broadcast_to("baseline_range", bound, tuple(x.shape))
    lo, hi = range_bounds(x, baseline_range) if has_range else (tf.constant(0.0),
                                                           tf.constant(0.0))

    def build():
        def run(a, b, r, low, high, s):
            if not has_range:
                low, high = range_bounds(a, None)
            return _eg_graph(model, a, b, r, low, high, s, int(samples), int(batch_size),
                             use_refs)
        return run

    fn = core.compiled(model, ("expected_gradients", int(samples), int(batch_size), use_refs,
                          has_range), build)
    out = fn(x, t, refs, lo, hi, tf.constant(int(seed), tf.int32))
    return core.finish(out, was_numpy, model, x)
