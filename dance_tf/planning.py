"""Planning (once per input shape): the layer-ℓ sub-model, the masks, the chunk sizes, an
optional crop plan and the compiled pipeline of an explainer (``build_plan``)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.crops import plan_crop
from dance_tf.errors import InputError, LayerError
from dance_tf.layers import layer_model
from dance_tf.masks import corner_table, default_patch, window_groups
from dance_tf.pipeline import Plan, pipeline_body, single_input
from dance_tf.precision import loop_model
from dance_tf.receptive_field import receptive_field
from dance_tf.sizing import chunk_size, evals_per_batch, sized


def patch_and_m(ex, shape) -> tuple[int, int]:
    p_default, m_default = default_patch(shape)
    p = p_default if ex.patch_size is None else ex.patch_size
    m = m_default if ex.patches_per_mask is None else ex.patches_per_mask
    return p, m


def build_plan(ex, shape: tuple[int, ...], lo=None, hi=None) -> Plan:
    """Build (once per input shape) F_ℓ, the masks and the compiled pipeline."""
    shape = tuple(int(s) for s in shape)
    if shape in ex._plans:
        return ex._plans[shape]
    logits = ex.logits_model(shape)
    poly = poly_shape(ex, shape)
    if poly not in ex._f_l:
        f_l, choice = layer_model(ex.model, ex.layer, poly, ex._softmax, shape)
        if ex._softmax is not None and choice.layer is ex._softmax:
            raise LayerError(f"layer: {choice.name!r} comes after the logits (it is the "
                             "final softmax); choose a layer at or before the logits")
        f_loop = loop_model(f_l, ex.precision) if ex.perturbation == "decoys" else f_l
        ex._f_l[poly] = (f_l, choice, f_loop)
    f_l, choice, f_loop = ex._f_l[poly]
    check_gradient_path(ex, logits, f_l, shape)
    p, m = patch_and_m(ex, shape)
    rf = None
    if ex.packing == "receptive_field":
        lo_ = np.zeros(shape, np.float32) if lo is None else lo
        hi_ = np.ones(shape, np.float32) if hi is None else hi
        rf = receptive_field(f_l, shape, lo_, hi_)
    groups = window_groups(shape, p, ex.stride, m, ex.packing, rf)
    n = len(groups)
    n_items = n if ex.perturbation == "constant" else 2 * n
    crop = None
    if (ex.use_crops and poly == shape and ex.perturbation == "decoys"
            and ex.settings.solver == "line_search"):
        lo_ = np.zeros(shape, np.float32) if lo is None else lo
        hi_ = np.ones(shape, np.float32) if hi is None else hi
        crop = plan_crop(f_loop, shape, groups, p, lo_, hi_)
    # sized after the crops: the loop then holds crops, the certificate full inputs
    chunk, base = chunk_size(ex, f_l, shape, n_items, variable=poly != shape, crop=crop)
    # one graph for every length of a variable axis: size by the poly shape (None → 64)
    key = (poly, chunk, base, p, evals_per_batch(ex, sized(poly)), crop)
    if key not in ex._compiled:
        body = pipeline_body(ex, logits, f_l, poly, p, chunk, base, f_loop, crop)
        ex._compiled[key] = ({details: single_input(body, poly, details)
                              for details in (True, False)}, body)
    compiled, body = ex._compiled[key]
    plan = Plan(f_l, choice.path_name, shape, groups, tf.constant(corner_table(groups)), p,
                chunk, n, n_items, compiled, f_loop, crop, body, layer_reason=choice.reason)
    ex._plans[shape] = plan
    return plan


def poly_shape(ex, shape: tuple) -> tuple:
    """The model's own input shape where it has variable axes (one graph for all)."""
    declared = ex.input_shape
    if declared is None or len(declared) != len(shape):
        return shape
    return tuple(None if d is None else s for d, s in zip(declared, shape))


def check_gradient_path(ex, logits, f_l, shape):
    x = tf.zeros((1,) + shape, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        out = logits(x, training=False)
        feat = f_l(x, training=False)
        s_out, s_feat = tf.reduce_sum(out), tf.reduce_sum(feat)
    if tape.gradient(s_out, x) is None:
        raise InputError("model: no gradient path from the input to the logits")
    if tape.gradient(s_feat, x) is None:
        raise LayerError("layer: no gradient path from the input to layer ℓ")
