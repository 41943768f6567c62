"""The compiled pipeline (§3, S1): masks → perturbation → base method → aggregation.

``pipeline_body`` builds the graph for a group of G inputs of one shape (G static): an
in-graph loop over chunks of perturbation items, each chunk holding the same items of
every input of the group, perturbed as one batch (a ``dance_tf.decoys.perturbations`` strategy:
decoys or an ablation), explained by the base method ``base`` items at a time and folded
into per-input running statistics (an ``dance_tf.aggregate`` strategy). One input is the
group G = 1 (``single_input``, compiled once per input shape); a batch runs groups of
several inputs (``dance_tf.pipeline_batch``), so their decoys share one optimised batch.
``Plan`` holds it all per input shape with F_ℓ, the masks and the chunk sizes.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dance_tf import aggregate
from dance_tf.decoys import perturbations
from dance_tf.features import feature_axes
from dance_tf.masks import masks_from_corners
from dance_tf.sizing import evals_per_batch, sized

#: per-decoy diagnostics the compiled pipeline returns, with their dtypes
PER_DECOY = perturbations.PER_ITEM
#: the names of the compiled pipeline's outputs (a dict)
OUTPUTS = ("saliency", "decoys", "max_deviation", "certified", "steps", "target", "epsilon",
           "objective", "pinned", "against", "finite")


@dataclass
class Plan:
    """Everything built once per input shape (the compiled graph itself is shared by all
    shapes of a model with variable axes, e.g. sentences of any length)."""

    f_l: object
    layer: str
    shape: tuple
    groups: list
    corners: tf.Tensor  # (n, m_max, k) window corners per mask, −1 padded
    patch: int
    chunk: int
    n_masks: int
    n_items: int
    compiled: dict  # details flag → tf.function(x, target, lo, hi, eps, constant, seed, corners)
    f_loop: object = None  # F_ℓ of the optimisation loop (a bfloat16 copy, or f_l itself)
    crop: object = None  # crops.CropPlan of the line search, or None (full inputs)
    body: object = None  # pipeline_body: the uncompiled graph for a group of inputs
    layer_reason: str = ""  # why ℓ was chosen (the default rule, or "given as layer=")
    _masks: np.ndarray | None = None

    @property
    def masks(self) -> np.ndarray:
        """(n, *S) 0/1 masks, built on first use (large for big images)."""
        if self._masks is None:   # built in TensorFlow (one op, not a loop over masks)
            self._masks = masks_from_corners(self.corners, self.shape, self.patch).numpy()
        return self._masks

    def run(self, x, target, lo, hi, epsilon, constant, seed):
        """The whole pipeline for one input, with per-decoy details (see ``Explainer``)."""
        return self.compiled[True](x, target, lo, hi, epsilon, constant, seed, self.corners)

    def run_maps(self, x, target, lo, hi, epsilon, constant, seed):
        """As ``run`` but keeps no decoys: memory does not grow with 2n."""
        return self.compiled[False](x, target, lo, hi, epsilon, constant, seed, self.corners)


def relative_epsilon(ref: tf.Tensor, rel: float) -> tf.Tensor:
    """ε = rel × max|F_ℓ(x)| per input from ref = F_ℓ(xs) (G, ...): (G,), > 0 (1e-6 when
    an input's F_ℓ is all zero)."""
    flat = tf.reshape(ref, [tf.shape(ref)[0], -1])
    top = tf.cast(tf.reduce_max(tf.abs(flat), axis=1), tf.float64)
    eps = tf.cast(rel * top, tf.float32)
    return tf.where(eps > 0, eps, tf.constant(1e-6, tf.float32))


def eager_call(method, model, inputs, targets, opts) -> tf.Tensor:
    """Run a non-graph-safe base method eagerly (numpy in, maps out) from inside the graph."""

    def call(xs, ts):
        return np.asarray(method(model, xs, ts, **opts), np.float32)

    maps = tf.numpy_function(call, [inputs, targets], tf.float32, stateful=False)
    maps.set_shape(inputs.shape)
    return maps


def method_options(recipe, logits, shape) -> dict:
    """The base method's options (``recipe.method_options``), plus a ``batch_size`` from
    the memory budget for base methods that take one (unless the caller set it): IG's 50
    steps of 8 decoys would otherwise evaluate 64 images at once whatever the budget."""
    opts = dict(recipe.method_options)
    if "batch_size" not in opts:
        try:
            params = inspect.signature(recipe.method).parameters
        except (TypeError, ValueError):
            params = {}
        if "batch_size" in params:
            opts["batch_size"] = evals_per_batch(recipe.budget_mb, logits, shape)
    return opts


def _fold(stats, g, maps, valid, cover):
    """Fold one part's maps into input g's row of the group statistics."""
    row = aggregate.update_stats(tuple(s[g] for s in stats), maps, valid, cover)
    return tuple(tf.tensor_scatter_nd_update(s, [[g]], v[None]) for s, v in zip(stats, row))


def pipeline_body(recipe, logits, f_l, poly_shape, patch, chunk, base, f_loop=None,
                  crop=None):
    """The pipeline a ``planning.Recipe`` describes (its options, base method and budget)
    as a Python graph function (trace it inside a ``tf.function``): f(xs (G, *S), targets
    (G,) int32 (−1: predicted), lo, hi (G, *S), epsilon scalar (≤ 0: ``epsilon_rel`` ×
    max|F_ℓ(x)| per input), constants (G, *S), seed, corners, details) → a dict keyed by
    ``OUTPUTS``: saliency (G, *S), decoys (G, 2n, *S) or (G, 0), max_deviation, certified,
    steps, objective, pinned, against (G, 2n), target (G,), epsilon (G,), finite (G,)."""
    options = recipe.options
    method = recipe.method
    opts = method_options(recipe, logits, sized(poly_shape))
    eager_method = recipe.eager
    perturb = perturbations.build(options.perturbation, f_l, options.settings, f_loop, crop,
                                  float(options.noise_level))
    aggregation = aggregate.get(options.aggregation)
    rel = options.settings.epsilon_rel
    rank = len(poly_shape)

    def run(xs, targets, lo, hi, epsilon, constant, seed, corners, details=False):
        group = int(xs.shape[0])  # static: 1 for one input
        per_part = chunk // base  # base-method calls per input and chunk
        out_x = tf.reshape(logits(xs, training=False), [group, -1])
        targets = tf.where(targets < 0, tf.argmax(out_x, axis=1, output_type=tf.int32),
                           targets)
        ref = f_l(xs, training=False)  # F_ℓ(x), once per input for every chunk
        finite = (tf.reduce_all(tf.math.is_finite(out_x), axis=1)
                  & tf.reduce_all(tf.math.is_finite(tf.reshape(ref, [group, -1])), axis=1))
        ref_loop = perturb.reference(xs)
        epsilon = tf.where(epsilon > 0, tf.fill([group], epsilon), relative_epsilon(ref, rel))
        n = tf.shape(corners)[0]
        n_items = perturb.per_mask * n
        n_chunks = (n_items + chunk - 1) // chunk
        signs_all = tf.concat([tf.ones([n]), -tf.ones([n_items - n])], 0)
        owner = tf.repeat(tf.range(group), chunk)  # the input of each item of a chunk
        mx, mn, sm, _ = aggregate.init_stats(tf.shape(xs))
        stats = (mx, mn, sm, tf.zeros([group]))

        def per_item(t):  # (G, ...) → each item's copy; shared (1, ...) when G = 1
            return t if group == 1 else tf.gather(t, owner)

        def chunk_major(t):  # (G·chunk, ...) → (chunk, G, ...) for the TensorArrays
            return t if group == 1 else tf.transpose(
                tf.reshape(t, tf.concat([[group, chunk], tf.shape(t)[1:]], 0)),
                [1, 0] + list(range(2, len(t.shape) + 1)))

        arrays = [tf.TensorArray(dtype, size=n_chunks, infer_shape=False)
                  for dtype in PER_DECOY.values()]
        if details:
            arrays.append(tf.TensorArray(tf.float32, size=n_chunks, infer_shape=False))

        def body(c, stats, *arrays):
            idx = c * chunk + tf.range(chunk)
            valid = idx < n_items
            idx = tf.minimum(idx, n_items - 1)
            mk = masks_from_corners(tf.gather(corners, idx % n), tf.shape(xs)[1:], patch)
            sg = tf.gather(signs_all, idx)
            seeds = tf.stack([tf.fill([chunk], seed), idx], axis=1)
            if group > 1:  # the same items for every input of the group
                mk = tf.tile(mk, [group] + [1] * rank)
                sg, seeds = tf.tile(sg, [group]), tf.tile(seeds, [group, 1])
            items = perturbations.Items(
                per_item(xs), per_item(lo), per_item(hi), per_item(constant), mk, sg, seeds,
                tf.gather(epsilon, owner), per_item(ref),
                None if ref_loop is None else per_item(ref_loop))
            res = perturb(items)
            inputs = res["inputs"]
            # the base method sees ``base`` items of one input at a time (the whole model)
            parts = tf.reshape(inputs, tf.concat([[group * per_part, base],
                                                  tf.shape(inputs)[1:]], 0))
            parts_valid = tf.reshape(tf.tile(valid, [group]), [group * per_part, base])
            parts_cover = tf.reshape(mk, tf.shape(parts)) if aggregation.uses_cover else None

            def explain_part(j, stats):
                part = parts[j]
                part.set_shape([base] + list(inputs.shape[1:]))  # static batch: IG, SG
                g = j // per_part
                part_targets = tf.fill([base], targets[g])
                if eager_method:
                    maps = eager_call(method, logits, part, part_targets, opts)
                else:
                    maps = tf.cast(method(logits, part, part_targets, **opts), tf.float32)
                cover = None if parts_cover is None else parts_cover[j]
                return j + 1, _fold(stats, g, maps, parts_valid[j], cover)

            _, stats = tf.while_loop(lambda j, _: j < group * per_part, explain_part,
                                     (tf.constant(0), stats), parallel_iterations=1)
            out = [a.write(c, chunk_major(res[name])) for a, name in zip(arrays, PER_DECOY)]
            if details:
                out.append(arrays[len(PER_DECOY)].write(c, chunk_major(inputs)))
            return (c + 1, stats, *out)

        out = tf.while_loop(lambda c, *_: c < n_chunks, body,
                            (tf.constant(0), stats, *arrays), parallel_iterations=1)
        mx, mn, sm, count = out[1]
        sal = aggregation.finish((mx, mn, sm, tf.reshape(count, [group] + [1] * rank)))

        def item_major(t, trailing: int = 0):  # concatenated (2n, G, ...) → (G, 2n, ...)
            t = t[:n_items]
            return t[None] if group == 1 else tf.transpose(
                t, [1, 0] + list(range(2, 2 + trailing)))

        per_decoy = [item_major(a.concat()) for a in out[2:2 + len(PER_DECOY)]]
        dev, cert, steps, objective, pinned, against = per_decoy
        inputs = item_major(out[-1].concat(), rank) if details else tf.zeros([group, 0])
        return dict(zip(OUTPUTS, (sal, inputs, dev, cert, steps, targets, epsilon,
                                  objective, pinned, against, finite)))

    return run


def single_input(body, poly_shape, details: bool):
    """One tf.function for every input of ``poly_shape`` (None = variable axis):
    f(x, target, lo, hi, epsilon, constant, seed, corners) → a dict keyed by ``OUTPUTS``
    (saliency, decoys, max_deviation, ...) — ``body`` for a group of one input."""

    def run(x, target, lo, hi, epsilon, constant, seed, corners):
        out = body(x[None], target[None], lo[None], hi[None], epsilon, constant[None], seed,
                   corners, details)
        return {name: value[0] for name, value in out.items()}

    spec = tf.TensorSpec(poly_shape, tf.float32)
    signature = [spec, tf.TensorSpec([], tf.int32), spec, spec,
                 tf.TensorSpec([], tf.float32), spec, tf.TensorSpec([], tf.int32),
                 tf.TensorSpec([None, None, feature_axes(poly_shape)], tf.int32)]
    # a partial, not ``run`` itself: TF counts traces per code object, and every
    # explainer's ``run`` shares one (12 explainers would warn of "retracing")
    return tf.function(functools.partial(run), input_signature=signature)
