"""Planning (once per input shape): from what a plan needs (``Recipe``: the model's
contract, the checked options, the base method, the memory budget) to the layer-ℓ
sub-model (``layer_parts``) and the ``Plan`` (``build_plan``: masks, chunk sizes, an
optional crop plan and the compiled pipeline). The caches belong to the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from dance_tf.crops import plan_crop
from dance_tf.errors import InputError, LayerError
from dance_tf.layers import layer_model, loop_model
from dance_tf.masks import corner_table, default_patch, receptive_field, window_groups
from dance_tf.pipeline import Plan, pipeline_body, single_input
from dance_tf.sizing import chunk_size, evals_per_batch, sized


@dataclass(frozen=True)
class Recipe:
    """What a plan is built from: the model contract (``model_contract.ModelContract``:
    the model, its logits model, the stripped head, the declared input shape), the checked
    options (``explainer_options.ExplainerOptions``), the base method (``fn(model, x,
    targets, **method_options)``; ``eager``: run through ``tf.numpy_function``) and the
    memory budget in MB."""

    contract: object
    options: object
    method: Callable
    method_options: Mapping
    eager: bool
    budget_mb: float


@dataclass(frozen=True)
class LayerParts:
    """F_ℓ (§3.2), how ℓ was chosen (``layers.LayerChoice``), and the decoy loop's copy of
    F_ℓ (bfloat16 for ``precision="bfloat16"``, else F_ℓ itself)."""

    f_l: object
    choice: object
    f_loop: object


def poly_shape(declared: tuple | None, shape: tuple) -> tuple:
    """The model's own input shape ``declared`` where it has variable axes (None), else
    ``shape``: one graph for every length of a variable axis."""
    if declared is None or len(declared) != len(shape):
        return shape
    return tuple(None if d is None else s for d, s in zip(declared, shape))


def layer_parts(recipe: Recipe, poly: tuple, shape: tuple) -> LayerParts:
    """F_ℓ for inputs of ``poly`` (the default ℓ chosen on the concrete ``shape``);
    refuses an ℓ after the logits (the stripped final softmax)."""
    c, opts = recipe.contract, recipe.options
    head = c.head_layer
    f_l, choice = layer_model(c.model, opts.layer, poly, head, shape)
    if head is not None and choice.layer is head:
        raise LayerError(f"layer: {choice.name!r} comes after the logits (it is the "
                         "final softmax); choose a layer at or before the logits")
    f_loop = loop_model(f_l, opts.precision) if opts.perturbation == "decoys" else f_l
    return LayerParts(f_l, choice, f_loop)


def patch_and_m(options, shape) -> tuple[int, int]:
    """(patch size p, patches per mask m): the options', else the defaults for ``shape``
    (S1.1)."""
    p_default, m_default = default_patch(shape)
    p = p_default if options.patch_size is None else options.patch_size
    m = m_default if options.patches_per_mask is None else options.patches_per_mask
    return p, m


def build_plan(recipe: Recipe, shape: tuple[int, ...], parts: LayerParts, compiled: dict,
               lo=None, hi=None) -> Plan:
    """The ``Plan`` for inputs of ``shape`` (S1): masks, chunk sizes, crops and the
    compiled pipeline, which is taken from / stored in ``compiled`` (keyed by everything
    the graph depends on). lo, hi: the legal range (*S) or None ([0, 1])."""
    shape = tuple(int(s) for s in shape)
    opts = recipe.options
    logits = recipe.contract.logits
    poly = poly_shape(recipe.contract.input_shape, shape)
    f_l, choice, f_loop = parts.f_l, parts.choice, parts.f_loop
    check_gradient_path(logits, f_l, shape)
    p, m = patch_and_m(opts, shape)
    lo_ = np.zeros(shape, np.float32) if lo is None else lo
    hi_ = np.ones(shape, np.float32) if hi is None else hi
    rf = receptive_field(f_l, shape, lo_, hi_) if opts.packing == "receptive_field" else None
    groups = window_groups(shape, p, opts.stride, m, opts.packing, rf, opts.target_decoys)
    n = len(groups)
    n_items = n if opts.perturbation == "constant" else 2 * n
    crop = None
    if (opts.use_crops and poly == shape and opts.perturbation == "decoys"
            and opts.settings.solver == "line_search"):
        crop = plan_crop(f_loop, shape, groups, p, lo_, hi_)
    # sized after the crops: the loop then holds crops, the certificate full inputs
    chunk, base = chunk_size(recipe.budget_mb, opts.decoy_batch_size, logits, f_l, shape,
                             n_items, variable=poly != shape, crop=crop)
    # one graph for every length of a variable axis: size by the poly shape (None → 64)
    key = (poly, chunk, base, p, evals_per_batch(recipe.budget_mb, logits, sized(poly)),
           crop)
    if key not in compiled:
        body = pipeline_body(recipe, logits, f_l, poly, p, chunk, base, f_loop, crop)
        compiled[key] = ({details: single_input(body, poly, details)
                          for details in (True, False)}, body)
    graphs, body = compiled[key]
    return Plan(f_l, choice.path_name, shape, groups, tf.constant(corner_table(groups)), p,
                chunk, n, n_items, graphs, f_loop, crop, body, layer_reason=choice.reason)


class PlanCache:
    """An Explainer's caches: input shape → ``Plan``; poly shape → ``LayerParts``; graph
    key → compiled pipeline; (shape, group) → compiled batch pipeline (``batch``, filled
    by ``dance_tf.pipeline_batch``)."""

    def __init__(self):
        self.plans: dict[tuple, Plan] = {}
        self.layers: dict[tuple, LayerParts] = {}
        self.compiled: dict[tuple, tuple] = {}
        self.batch: dict[tuple, object] = {}

    def plan(self, recipe: Recipe, shape: tuple[int, ...], lo=None, hi=None) -> Plan:
        """The plan for inputs of ``shape``, built once (F_ℓ once per poly shape)."""
        if shape not in self.plans:
            poly = poly_shape(recipe.contract.input_shape, shape)
            if poly not in self.layers:
                self.layers[poly] = layer_parts(recipe, poly, shape)
            self.plans[shape] = build_plan(recipe, shape, self.layers[poly], self.compiled,
                                           lo, hi)
        return self.plans[shape]

    def clear(self) -> None:
        for cache in (self.plans, self.layers, self.compiled, self.batch):
            cache.clear()


def check_gradient_path(logits, f_l, shape):
    """Refuse a model (or ℓ) with no gradient path from the input."""
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
