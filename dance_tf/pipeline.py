"""The compiled per-input pipeline (§3, S1): masks → decoys → base method → aggregation
in one ``tf.function`` per input shape (``compile_pipeline``), and the ``Plan`` that holds
it with F_ℓ, the masks and the chunk sizes. An in-graph loop over chunks of decoys: each
chunk optimised as one batch (``dance_tf.decoys``), explained by the base method and folded
into running max / min / sum statistics (``dance_tf.aggregate``)."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dance_tf import ablations, aggregate
from dance_tf.decoys import optimise
from dance_tf.masks import masks_from_corners, paint
from dance_tf.reduce import feature_axes
from dance_tf.sizing import evals_per_batch, sized

#: per-decoy diagnostics the compiled pipeline returns, with their dtypes
PER_DECOY = {"max_deviation": tf.float32, "certified": tf.bool, "steps": tf.int32,
             "objective": tf.float32, "pinned": tf.bool, "against": tf.float32}


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
    _masks: np.ndarray | None = None

    @property
    def masks(self) -> np.ndarray:
        """(n, *S) 0/1 masks, built on first use (large for big images)."""
        if self._masks is None:
            self._masks = np.stack([paint(self.shape, g, self.patch) for g in self.groups])
        return self._masks

    def run(self, x, target, lo, hi, epsilon, constant, seed):
        """The whole pipeline for one input, with per-decoy details (see ``Explainer``)."""
        return self.compiled[True](x, target, lo, hi, epsilon, constant, seed, self.corners)

    def run_maps(self, x, target, lo, hi, epsilon, constant, seed):
        """As ``run`` but keeps no decoys: memory does not grow with 2n."""
        return self.compiled[False](x, target, lo, hi, epsilon, constant, seed, self.corners)


def relative_epsilon(ref: tf.Tensor, rel: float) -> tf.Tensor:
    """ε = rel × max|F_ℓ(x)| from ref = F_ℓ(x) (> 0: 1e-6 when F_ℓ(x) is all zero)."""
    top = tf.cast(tf.reduce_max(tf.abs(ref)), tf.float64)
    eps = tf.cast(rel * top, tf.float32)
    return tf.where(eps > 0, eps, tf.constant(1e-6, tf.float32))


def eager_call(method, model, inputs, targets, opts) -> tf.Tensor:
    """Run a non-graph-safe base method eagerly (numpy in, maps out) from inside the graph."""

    def call(xs, ts):
        return np.asarray(method(model, xs, ts, **opts), np.float32)

    maps = tf.numpy_function(call, [inputs, targets], tf.float32, stateful=False)
    maps.set_shape(inputs.shape)
    return maps




def method_options(ex, shape) -> dict:
    """``method_options``, plus a ``batch_size`` from the memory budget for base methods
    that take one (unless the caller set it): IG's 50 steps of 8 decoys would otherwise
    evaluate 64 images at once whatever the budget."""
    opts = dict(ex.method_options)
    if "batch_size" not in opts:
        try:
            params = inspect.signature(ex._method).parameters
        except (TypeError, ValueError):
            params = {}
        if "batch_size" in params:
            opts["batch_size"] = evals_per_batch(ex, shape)
    return opts


def compile_pipeline(ex, logits, f_l, poly_shape, patch, chunk, base, details, f_loop=None,
             crop=None):
    """One tf.function for every input of ``poly_shape`` (None = variable axis) with the
    settings of explainer ``ex``: f(x, target, lo, hi, epsilon, constant, seed, corners) →
    (saliency, decoys, max_deviation, certified, steps, target, epsilon, objective,
    pinned, against, finite)."""
    method = ex._method
    opts = method_options(ex, sized(poly_shape))
    eager_method = ex._eager_method
    settings = ex.settings
    perturbation = ex.perturbation
    aggregation = ex.aggregation
    noise_level = ex.noise_level
    per_item = 1 if perturbation == "constant" else 2

    def run(x, target, lo, hi, epsilon, constant, seed, corners):
        # target < 0: the predicted class; epsilon ≤ 0: epsilon_rel × max|F_ℓ(x)|.
        # Computed here, not in an eager prelude: one call, no host round trip.
        out_x = tf.reshape(logits(x[None], training=False), [-1])
        target = tf.cond(target < 0, lambda: tf.argmax(out_x, output_type=tf.int32),
                         lambda: target)
        ref = f_l(x[None], training=False)  # F_ℓ(x), once for every chunk
        finite = (tf.reduce_all(tf.math.is_finite(out_x))
                  & tf.reduce_all(tf.math.is_finite(ref)))
        low = f_loop is not None and f_loop is not f_l  # a reduced-precision loop
        ref_loop = tf.cast(f_loop(x[None], training=False), tf.float32) if low else None
        epsilon = tf.cond(epsilon > 0, lambda: epsilon,
                          lambda: relative_epsilon(ref, settings.epsilon_rel))
        n = tf.shape(corners)[0]
        n_items = per_item * n
        n_chunks = (n_items + chunk - 1) // chunk
        signs_all = tf.concat([tf.ones([n]), -tf.ones([n_items - n])], 0)
        stats = aggregate.init_stats(tf.shape(x))
        # per-decoy diagnostics, one entry per chunk (see PER_DECOY)
        arrays = [tf.TensorArray(dtype, size=n_chunks, infer_shape=False)
                  for dtype in PER_DECOY.values()]
        if details:
            arrays.append(tf.TensorArray(tf.float32, size=n_chunks, infer_shape=False))

        def body(c, stats, *arrays):
            idx = c * chunk + tf.range(chunk)
            valid = idx < n_items
            idx = tf.minimum(idx, n_items - 1)
            mk = masks_from_corners(tf.gather(corners, idx % n), tf.shape(x), patch)
            sg = tf.gather(signs_all, idx)
            seeds = tf.stack([tf.fill([chunk], seed), idx], axis=1)
            if perturbation == "decoys":
                res = optimise(f_l, x, mk, sg, lo, hi, epsilon, seeds, settings,
                               f_loop if low else None, ref, ref_loop, crop)
                inputs = res["decoys"]
            else:
                if perturbation == "constant":
                    inputs = ablations.constant_inputs(x, mk, constant)
                else:
                    inputs = ablations.noise_inputs(x, mk, lo, hi, noise_level, seeds)
                diff = tf.abs(f_l(inputs, training=False) - ref)
                res = {"max_deviation": tf.reduce_max(tf.reshape(diff, [chunk, -1]), axis=1),
                       "certified": tf.zeros([chunk], tf.bool),
                       "steps": tf.zeros([chunk], tf.int32),
                       "objective": tf.zeros([chunk]), "pinned": tf.zeros([chunk], tf.bool),
                       "against": tf.zeros([chunk])}
            # the base method sees ``base`` decoys at a time (it runs the whole model)
            parts = tf.reshape(inputs, tf.concat([[chunk // base, base],
                                                  tf.shape(inputs)[1:]], 0))
            parts_valid = tf.reshape(valid, [chunk // base, base])
            parts_cover = (tf.reshape(mk, tf.shape(parts)) if aggregation ==
                           "range_covering" else None)
            targets = tf.fill([base], target)

            def explain_part(j, stats):
                part = parts[j]
                part.set_shape([base] + list(inputs.shape[1:]))  # static batch: IG, SG
                if eager_method:
                    maps = eager_call(method, logits, part, targets, opts)
                else:
                    maps = tf.cast(method(logits, part, targets, **opts), tf.float32)
                cover = None if parts_cover is None else parts_cover[j]
                return j + 1, aggregate.update_stats(stats, maps, parts_valid[j], cover)

            _, stats = tf.while_loop(lambda j, _: j < chunk // base, explain_part,
                                     (tf.constant(0), stats))
            out = [a.write(c, res[name]) for a, name in zip(arrays, PER_DECOY)]
            if details:
                out.append(arrays[len(PER_DECOY)].write(c, inputs))
            return (c + 1, stats, *out)

        out = tf.while_loop(lambda c, *_: c < n_chunks, body,
                            (tf.constant(0), stats, *arrays))
        sal = aggregate.finish_stats(out[1], aggregation)
        per_decoy = [a.concat()[:n_items] for a in out[2:2 + len(PER_DECOY)]]
        dev, cert, steps, objective, pinned, against = per_decoy
        inputs = out[-1].concat()[:n_items] if details else tf.zeros([0])
        return (sal, inputs, dev, cert, steps, target, epsilon, objective, pinned,
                against, finite)

    spec = tf.TensorSpec(poly_shape, tf.float32)
    signature = [spec, tf.TensorSpec([], tf.int32), spec, spec,
                 tf.TensorSpec([], tf.float32), spec, tf.TensorSpec([], tf.int32),
                 tf.TensorSpec([None, None, feature_axes(poly_shape)], tf.int32)]
    # a partial, not ``run`` itself: TF counts traces per code object, and every
    # explainer's ``run`` shares one (12 explainers would warn of "retracing")
    return tf.function(functools.partial(run), input_signature=signature)
