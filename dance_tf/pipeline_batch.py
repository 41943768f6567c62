"""The in-graph batch pipeline (§3, S1): a batch (N, *S) → DANCE maps in one graph.

Every per-input quantity that ``Explainer.explain`` prepares in numpy — the predicted
class, the legal range (the input's own [min, max] when no ``value_range`` was given), the
Proposition-1 narrowing, ε = ``epsilon_rel`` × max|F_ℓ(x)| and the constant of the
constant ablation — is computed here with TensorFlow ops that round the same way, and the
inputs then run the explainer's pipeline (``Plan.body``) in groups: the decoys of a group's
inputs are optimised as one batch. A SavedModel uses groups of one input, so memory is one
input's decoy chunk; ``Explainer.__call__`` groups as many as its memory budget holds.
``Explainer.__call__`` runs batches through it; ``dance_tf.export`` saves it.

Inputs outside ``value_range`` are clipped and a target outside [0, classes) falls back to
the predicted class (a server should not crash on one bad request); the live explainer
checks both at its numpy edge before calling this. Non-finite inputs, logits, layer-ℓ
deviations or maps fail with ``InvalidArgumentError``: no map is returned for them.
"""

from __future__ import annotations

import warnings

import numpy as np
import tensorflow as tf

from dance_tf import inputs, validate
from dance_tf.decoys import ablations
from dance_tf.errors import InputError, one_line
from dance_tf.explanation import DecoyWarning
from dance_tf.features import feature_axes
from dance_tf.layers import class_count


def static_range(explainer, shape):
    """(lo, hi) as float32 arrays of ``shape`` from ``value_range``, or None (per input)."""
    if explainer.value_range is None:
        return None
    lo, hi = validate.value_range_pair(explainer.value_range, shape)  # finite, lo ≤ hi
    return lo.copy(), hi.copy()


def compiled_batch(explainer, shape, group: int | None = None):
    """``tf.function`` of ``batch_graph`` for inputs of ``shape`` (batch axis dynamic),
    with groups of ``group`` inputs optimised together [as many as the memory budget
    allows: ``inputs_in_flight``]."""
    rng = static_range(explainer, shape)
    plan = explainer.plan(shape, *(rng or (None, None)))
    logits = explainer.logits_model(shape)
    spec = tf.TensorSpec((None,) + tuple(shape), tf.float32)
    group = explainer.inputs_in_flight(plan) if group is None else group
    graph = batch_graph(explainer, plan, logits, shape, rng, parallel=group)
    return tf.function(graph, input_signature=[spec, tf.TensorSpec((None,), tf.int32)])


def batch_graph(explainer, plan, logits, shape, rng, parallel: int = 1):
    """The batch pipeline f(x (N, *S), targets (N,) int32, −1 = predicted) → dict of
    saliency (N, *S), feature_saliency, target (N,), fraction_certified (N,) and
    fraction_moved (N,: the share of decoys that left x; 0 for the ablations), built
    from the explainer's settings and ``plan`` (not compiled: wrap in ``tf.function``).
    parallel: inputs whose decoys are optimised together, as one batch (``plan.body``
    for a group of that many inputs; memory grows with it; 1 in a SavedModel)."""
    settings = explainer.settings
    group = int(parallel)
    k = feature_axes(shape)
    reduce_axes = list(range(k + 1, len(shape) + 1))
    lo_c = None if rng is None else tf.constant(rng[0])
    hi_c = None if rng is None else tf.constant(rng[1])
    bound = (None if explainer.deviation_bound is None else tf.constant(
        validate.deviation_bound(explainer.deviation_bound, shape).copy()))
    const = (None if explainer.constant is None else tf.constant(
        ablations.broadcast_constant(explainer.constant, shape)))
    seed = tf.constant(explainer.seed, tf.int32)
    eps = tf.constant(-1.0 if settings.epsilon is None else settings.epsilon, tf.float32)
    n_classes = class_count(logits)
    ones = [1] * len(shape)

    def one_group(args):
        xs, targets = args  # (G, *S), (G,)
        if lo_c is None:  # each input's own [min, max]
            flat = tf.reshape(xs, [group, -1])
            lo = tf.tile(tf.reshape(tf.reduce_min(flat, 1), [group] + ones), [1] + list(shape))
            hi = tf.tile(tf.reshape(tf.reduce_max(flat, 1), [group] + ones), [1] + list(shape))
        else:
            lo, hi = tf.tile(lo_c[None], [group] + ones), tf.tile(hi_c[None], [group] + ones)
        xs = tf.clip_by_value(xs, lo, hi)
        lo_b, hi_b = lo, hi
        if bound is not None:
            lo_b, hi_b = tf.maximum(lo, xs - bound), tf.minimum(hi, xs + bound)
        out_x = logits(xs, training=False)
        n_cls = n_classes
        if n_cls is None:
            n_cls = tf.shape(out_x, out_type=tf.int32)[-1]
        # −1: the pipeline computes the predicted class, and a relative ε, itself
        c = tf.where((targets >= 0) & (targets < n_cls), targets, -1)
        if const is None:
            constants = tf.map_fn(lambda x: tf.broadcast_to(ablations.default_constant(x),
                                                            shape), xs)
        else:
            constants = tf.tile(const[None], [group] + ones)
        checks = [tf.debugging.assert_all_finite(
            out_x, "model output: non-finite logits for this input (a NaN or inf weight?); "
                   "refusing to explain it")]
        with tf.control_dependencies(checks):
            out = plan.body(xs, c, lo_b, hi_b, eps, constants, seed, plan.corners)
        sal, dev, cert = out["saliency"], out["max_deviation"], out["certified"]
        c, eps_used = out["target"], out["epsilon"]
        moved = tf.reduce_mean(tf.cast(out["objective"] > 0, tf.float32), axis=1)
        checks = [
            tf.debugging.assert_all_finite(
                sal, "saliency: non-finite map for this input (the model computes NaN or "
                     "inf: check its weights); no map is returned"),
            tf.debugging.assert_all_finite(
                dev, "max_deviation: non-finite layer-ℓ deviation (the model computes NaN "
                     "or inf): no decoy can be certified"),
            tf.debugging.assert_all_finite(eps_used, "epsilon: non-finite bound ε")]
        with tf.control_dependencies(checks):
            frac = tf.reduce_mean(tf.cast(cert, tf.float32), axis=1)
            sal = tf.identity(sal)
        return sal, c, frac, moved

    def batch(x, targets):
        x = tf.debugging.assert_all_finite(
            tf.convert_to_tensor(x, tf.float32),
            "x: the input holds NaN or inf; only finite inputs are explained")
        n = tf.shape(x)[0]
        n_groups = (n + group - 1) // group
        pad = n_groups * group - n  # the last group is filled with copies of the last input
        xp = tf.concat([x, tf.repeat(x[-1:], pad, axis=0)], 0)
        tp = tf.concat([targets, tf.repeat(targets[-1:], pad, axis=0)], 0)
        xp = tf.reshape(xp, tf.concat([[n_groups, group], tf.shape(x)[1:]], 0))
        sal, c, frac, moved = tf.map_fn(
            one_group, (xp, tf.reshape(tp, [n_groups, group])),
            fn_output_signature=(tf.TensorSpec((group,) + tuple(shape), tf.float32),
                                 tf.TensorSpec([group], tf.int32),
                                 tf.TensorSpec([group], tf.float32),
                                 tf.TensorSpec([group], tf.float32)),
            parallel_iterations=1)  # one group's decoys at a time: the budget holds one
        sal = tf.reshape(sal, tf.concat([[-1], tf.shape(x)[1:]], 0))[:n]
        c, frac, moved = (tf.reshape(t, [-1])[:n] for t in (c, frac, moved))
        feat = tf.reduce_mean(tf.abs(sal), axis=reduce_axes) if reduce_axes else tf.abs(sal)
        return {"saliency": sal, "feature_saliency": feat, "target": c,
                "fraction_certified": frac, "fraction_moved": moved}

    return batch


def explain_many(ex, xs: np.ndarray, targets: list, fns: dict) -> np.ndarray:
    """Maps (N, *S) of a batch xs (N, *S) for explainer ``ex`` (its public state) in one
    compiled call (``compiled_batch``, kept in ``fns``: the explainer's cache, keyed by
    shape and group), after the checks ``Explainer.explain`` makes at its edge; targets:
    N entries, None for the predicted class."""
    checked = np.stack([inputs.check_input(xi, ex.input_shape) for xi in xs])
    inputs.legal_range(checked[0], ex.value_range)   # warns once without value_range
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for xi in checked[1:]:
            inputs.legal_range(xi, ex.value_range)   # refuses x outside it
    shape = tuple(checked.shape[1:])
    ex.logits_model(shape)
    n_cls = ex.n_classes(tf.constant(checked[0]))   # static width, else one forward
    t = np.array([-1 if v is None else inputs.check_target(v, n_cls) for v in targets],
                 np.int32)
    rng = static_range(ex, shape)
    group = min(len(xs), ex.inputs_in_flight(ex.plan(shape, *(rng or (None, None)))))
    fn = fns.get((shape, group))
    if fn is None:
        fn = fns[shape, group] = compiled_batch(ex, shape, group)
    try:
        out = fn(tf.constant(checked), tf.constant(t))
    except tf.errors.InvalidArgumentError as err:
        raise InputError(f"x: {one_line(err.message)}") from err
    if ex.perturbation == "decoys":
        frac, moved = out["fraction_certified"].numpy(), out["fraction_moved"].numpy()
        empty = np.flatnonzero((frac == 0) | (moved == 0))
        partial = np.flatnonzero((frac > 0) & (frac < 1))
        if partial.size:
            warnings.warn(f"inputs {partial.tolist()} of the batch: some decoys failed their "
                          "certificate and were replaced by x (certified shares "
                          f"{np.round(frac[partial], 3).tolist()})", DecoyWarning, stacklevel=3)
        if empty.size:
            warnings.warn(f"inputs {empty.tolist()} of the batch: no decoy moved or none "
                          "was certified; their maps carry no decoy information",
                          DecoyWarning, stacklevel=3)
    maps = out["saliency"].numpy()
    inputs.check_degenerate_maps(ex.logits_model(shape), checked, maps)
    return maps
