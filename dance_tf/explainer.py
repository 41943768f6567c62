"""The DANCE explainer: masks → decoys → base saliency → aggregation (§3, S1).

``Explainer`` is configured once and called on many inputs; for each input shape it builds
(once) the layer-ℓ sub-model, the masks and one compiled graph that runs the whole pipeline:
an in-graph loop over chunks of decoys, each chunk optimised as one batch, explained by the
base method and folded into running max / min / sum statistics.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from dance_tf import ablations, aggregate, validate
from dance_tf.crops import plan_crop
from dance_tf.decoys import DecoySettings, optimise
from dance_tf.errors import BudgetError, InputError, LayerError
from dance_tf.layers import class_count, layer_model, logits_model
from dance_tf.masks import (
    PACKINGS,
    corner_table,
    default_patch,
    masks_from_corners,
    paint,
    window_groups,
)
from dance_tf.precision import PRECISIONS, loop_model
from dance_tf.receptive_field import receptive_field
from dance_tf.reduce import feature_axes, feature_scores
from dance_tf.saliency.base import BaseMethod, check_options
from dance_tf.saliency.base import get as get_base
from dance_tf.saliency.registry import resolve_method


@dataclass
class Explanation:
    """Result of one explanation (shapes for an input x of shape S).

    saliency: (*S) decoy-enhanced map (range or mean over the 2n maps, §3.4);
    feature_saliency: one score per feature (pixels (H, W), words (T,), features (F,)),
    the mean of |saliency| over channels / embedding dimensions;
    masks: (n, *S) 0/1; decoys: (2n, *S) — decoys[i] uses masks[i] with s = +1 and
    decoys[n + i] uses masks[i] with s = −1 (for the constant ablation: (n, *S));
    max_deviation: (2n,) ‖F_ℓ(x̃) − F_ℓ(x)‖∞; certified: (2n,) bool; steps: (2n,)
    solver steps run (Adam steps; or 1 for the line search + refinement rounds
    that moved); epsilon:
    the bound used; target: class index; layer: name.
    objective: (2n,) ‖((x̃ − x)·s)⁺ ∘ M‖₁ of each returned decoy, in x's units (0: the decoy
    is x itself: it did not move or was not certified); pinned: (2n,) bool, every movable
    feature of the mask at its bound in direction s; against: (2n,) share of the mask's
    movable features that moved against s; informative: False when no decoy moved (a
    range map is then all zero and says nothing: a warning is raised too).
    """

    saliency: np.ndarray
    feature_saliency: np.ndarray
    masks: np.ndarray
    decoys: np.ndarray
    max_deviation: np.ndarray
    certified: np.ndarray
    steps: np.ndarray
    epsilon: float
    target: int
    layer: str
    method: str
    perturbation: str
    aggregation: str
    objective: np.ndarray | None = None
    pinned: np.ndarray | None = None
    against: np.ndarray | None = None
    informative: bool = True
    extras: dict = field(default_factory=dict)

    @property
    def fraction_certified(self) -> float:
        return float(np.mean(self.certified)) if self.certified.size else float("nan")

    @property
    def moved(self) -> np.ndarray | None:
        """(2n,) bool: the decoy differs from x (objective > 0); None for the ablations."""
        return None if self.objective is None else self.objective > 0


@dataclass
class _Plan:
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


class Explainer:
    """DANCE explainer for a Keras classifier that outputs logits (§3).

    Parameters (paper defaults in brackets, Table S1):
      method: base method name (``gradient``, ``integrated_gradients``, ``smoothgrad``, ...)
        or a callable f(model, inputs, targets) -> maps; ``**method_options`` go to it.
      layer: ℓ as a Keras layer name, slim end point or 1-based conv/pool/dense index
        [the paper's ℓ for known zoo models, else 2].
      value_range: (x_min, x_max), scalars or arrays broadcastable to x [the input's own
        min and max, with a warning].
      aggregation: ``range`` [Eq. 3], ``mean`` (§4.3) or ``range_covering`` (the range
        per feature over only the decoys whose mask covers it; see ``dance_tf.aggregate``).
      perturbation: ``decoys`` [§3.3], or the ablations ``constant`` / ``noise`` (§4.3).
      patch_size, stride, patches_per_mask: P, stride, m [images 3, 1, 100; text and
        tabular 1, 1, 1]. packing: ``paper`` [raster groups of m, S1.1], ``tiles`` (one
        compact block of about m windows per mask: few decoys on large images) or
        ``receptive_field`` (independent windows share a mask; never more masks than
        ``paper``); see ``dance_tf.masks``.
      epsilon / epsilon_rel: L∞ bound at layer ℓ [5% of max|F_ℓ(x)|].
      solver: ``line_search`` [one-sided decoys: a line search along s·M, then
        ``refine_steps`` certified refinements; ``dance_tf.decoy_line_search``] or ``adam``
        (S1.2's schedule; ``dance_tf.decoy_adam``). line_grid [8], line_bisect [8],
        refine_steps [0], refine_grid [6]: line-search settings.
      Adam solver only: lambda0 [1e4]; tau0 [1]; max_steps [20]; learning_rate [0.1];
        init_noise [0.01]; patience [2]; backoff [0.5] (undo a violating step and halve
        that decoy's step size).
      deviation_bound: per-feature bound b, |x̃ − x| ≤ b (Proposition 1) [none].
      constant: value of the constant ablation [mean pixel / mean of x per channel].
      noise_level: σ of the noise ablation relative to x_max − x_min [0.1].
      decoy_batch_size: decoys per optimised batch [fit to ``memory_budget_mb``, 1024].
      use_crops: run the line search's layer-ℓ evaluations on crops around compact masks
        where that is exact and saves half the positions or more (``dance_tf.crops``;
        checked against the full input when planned) [True].
      precision: ``float32`` or ``bfloat16`` for the decoy optimisation loop only; the
        certificate and the base method stay float32 (``dance_tf.precision``) [float32].
      seed: seeds the random starts (same seed → identical output).
    """

    def __init__(self, model, *, method="gradient", base=None, method_options=None,
                 layer=None, value_range=None,
                 aggregation: str = "range", perturbation: str = "decoys",
                 patch_size: int | None = None, stride: int = 1,
                 patches_per_mask: int | None = None, packing: str = "paper",
                 epsilon: float | None = None, epsilon_rel: float = 0.05,
                 solver: str = "line_search", line_grid: int = 8, line_bisect: int = 8,
                 refine_steps: int = 0, refine_grid: int = 6,
                 lambda0: float = 1e4, tau0: float = 1.0, max_steps: int = 20,
                 learning_rate: float = 0.1, init_noise: float = 0.01, patience: int = 2,
                 backoff: float = 0.5,
                 deviation_bound=None, constant=None, noise_level: float = 0.1,
                 decoy_batch_size: int | None = None, memory_budget_mb: float = 1024,
                 use_crops: bool = True,
                 precision: str = "float32", seed: int = 0, **extra_method_options):
        if aggregation not in aggregate.AGGREGATIONS:
            raise InputError(f"aggregation: expected one of {aggregate.AGGREGATIONS}, "
                             f"got {aggregation!r}")
        if perturbation not in ablations.PERTURBATIONS:
            raise InputError(f"perturbation: expected one of {ablations.PERTURBATIONS}, "
                             f"got {perturbation!r}")
        if packing not in PACKINGS:
            raise InputError(f"packing: expected one of {PACKINGS}, got {packing!r}")
        if precision not in PRECISIONS:
            raise InputError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
        num = validate.number
        patch_size = num("patch_size", patch_size, low=1, integer=True, allow_none=True)
        stride = num("stride", stride, low=1, integer=True)
        patches_per_mask = num("patches_per_mask", patches_per_mask, low=1, integer=True,
                               allow_none=True)
        epsilon = num("epsilon", epsilon, low=0, low_open=True, allow_none=True)
        epsilon_rel = num("epsilon_rel", epsilon_rel, low=0, low_open=True)
        line_grid = num("line_grid", line_grid, low=1, high=64, integer=True)
        line_bisect = num("line_bisect", line_bisect, low=0, high=64, integer=True)
        refine_steps = num("refine_steps", refine_steps, low=0, integer=True)
        refine_grid = num("refine_grid", refine_grid, low=1, high=64, integer=True)
        lambda0 = num("lambda0", lambda0, low=0, low_open=True)
        tau0 = num("tau0", tau0, low=0, low_open=True)
        max_steps = num("max_steps", max_steps, low=1, integer=True)
        learning_rate = num("learning_rate", learning_rate, low=0, low_open=True)
        init_noise = num("init_noise", init_noise, low=0)
        patience = num("patience", patience, low=1, integer=True)
        backoff = num("backoff", backoff, low=0, high=1, low_open=True)
        noise_level = num("noise_level", noise_level, low=0)
        decoy_batch_size = num("decoy_batch_size", decoy_batch_size, low=1, integer=True,
                               allow_none=True)
        memory_budget_mb = num("memory_budget_mb", memory_budget_mb, low=0, low_open=True)
        seed = validate.seed("seed", seed)
        if value_range is not None:
            validate.value_range_pair(value_range)
        if deviation_bound is not None:
            deviation_bound = validate.deviation_bound(deviation_bound)
        if constant is not None:
            constant = validate.finite_array("constant", constant)
        if not hasattr(model, "layers") or not callable(model):
            raise TypeError(f"model: expected a Keras model, got {type(model).__name__}")
        _check_model_io(model)
        self.model = model
        self.base = _base_method(method, base, method_options, extra_method_options)
        self.method_name, self._method = self.base.name, self.base.fn
        self.method_options = dict(self.base.options)
        # graph-safe methods never fall back; numpy ones (declared, or found on the first
        # run) run through tf.py_function on each chunk of decoys
        self._builtin_method = self.base.graph_safe is True
        self._eager_method = self.base.graph_safe is False
        self.layer = layer
        self.value_range = value_range
        self.aggregation = aggregation
        self.perturbation = perturbation
        self.patch_size = patch_size
        self.stride = stride
        self.patches_per_mask = patches_per_mask
        self.packing = packing
        self.settings = DecoySettings(
            solver=solver, line_grid=int(line_grid), line_bisect=int(line_bisect),
            refine_steps=int(refine_steps), refine_grid=int(refine_grid),
            epsilon=epsilon, epsilon_rel=epsilon_rel, lambda0=lambda0, tau0=tau0,
            lambda_max=max(DecoySettings.lambda_max, lambda0 * 2.0 ** 20),
            max_steps=int(max_steps), learning_rate=learning_rate, init_noise=init_noise,
            patience=int(patience), backoff=float(backoff))
        self.deviation_bound = deviation_bound
        self.constant = constant
        self.noise_level = float(noise_level)
        self.decoy_batch_size = decoy_batch_size
        self.use_crops = bool(use_crops)
        self.memory_budget_mb = float(memory_budget_mb)
        self.precision = precision
        self.seed = int(seed)
        self._plans: dict[tuple, _Plan] = {}
        self._f_l: dict[tuple, tuple] = {}
        self._compiled: dict[tuple, dict] = {}
        self._batch_fns: dict[tuple, object] = {}   # shape → compiled batch pipeline
        self._logits = None
        self._softmax = None

    # ------------------------------------------------------------------ validation
    @property
    def input_shape(self) -> tuple | None:
        """One unbatched input's shape S as the model declares it (None = any size)."""
        return self._input_shape()

    def logits_model(self, shape) -> object:
        """The model that outputs the logits DANCE explains (a final softmax stripped),
        for inputs of ``shape``; built once."""
        return self._logits_model(tuple(shape))

    def _input_shape(self) -> tuple | None:
        shape = getattr(self.model, "input_shape", None)
        if isinstance(shape, list):
            raise InputError("model: expected a single-input model")
        return None if shape is None else tuple(shape[1:])

    def _check_x(self, x) -> np.ndarray:
        if tf.is_tensor(x):
            x = x.numpy()
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"x: expected a numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float32)
        expected = self._input_shape()
        if expected is not None:
            if arr.ndim == len(expected) + 1 and arr.shape[0] == 1:
                raise InputError(f"x: expected one unbatched input of shape {expected}, got "
                                 f"{arr.shape} with a batch axis; pass x[0]")
            fits = arr.ndim == len(expected) and all(
                e is None or e == a for e, a in zip(expected, arr.shape))
            if not fits:
                raise InputError(f"x: expected one unbatched input of shape {expected}, "
                                 f"got {arr.shape}")
        elif arr.ndim == 0:
            raise InputError("x: expected an array input, got a scalar")
        if arr.size == 0:
            raise InputError(f"x: the input is empty (shape {arr.shape}); a sentence needs "
                             "at least one word, an image at least one pixel")
        if not np.all(np.isfinite(arr)):
            raise InputError("x: contains NaN or Inf")
        return arr

    def _range(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.value_range is None:
            warnings.warn("value_range not given: using the input's own [min, max] as the "
                          "legal range of the decoys", stacklevel=3)
            lo, hi = np.full_like(x, x.min()), np.full_like(x, x.max())
        else:
            lo, hi = validate.value_range_pair(self.value_range, x.shape)
            lo, hi = lo.copy(), hi.copy()
        tol = range_tolerance(lo, hi)
        if np.any(x < lo - tol) or np.any(x > hi + tol):
            raise InputError(f"x: values outside value_range [x_min, x_max]: x spans "
                             f"[{x.min():.4g}, {x.max():.4g}]")
        return lo, hi

    def _bounded_range(self, x, lo, hi):
        """Narrow [lo, hi] by the per-feature deviation bound (Proposition 1)."""
        x = np.clip(x, lo, hi)
        if self.deviation_bound is None:
            return x, lo, hi
        b = validate.deviation_bound(self.deviation_bound, x.shape)
        return x, np.maximum(lo, x - b), np.minimum(hi, x + b)

    # ------------------------------------------------------------------ planning
    def _logits_model(self, shape):
        if self._logits is None:
            logits, softmax = logits_model(self.model, shape)
            _refuse_probabilities(logits, shape)
            self._logits, self._softmax = logits, softmax
        return self._logits

    def _patch(self, shape) -> tuple[int, int]:
        p_default, m_default = default_patch(shape)
        p = p_default if self.patch_size is None else self.patch_size
        m = m_default if self.patches_per_mask is None else self.patches_per_mask
        return p, m

    def plan(self, shape: tuple[int, ...], lo=None, hi=None) -> _Plan:
        """Build (once per input shape) F_ℓ, the masks and the compiled pipeline."""
        shape = tuple(int(s) for s in shape)
        if shape in self._plans:
            return self._plans[shape]
        logits = self._logits_model(shape)
        poly = self._poly_shape(shape)
        if poly not in self._f_l:
            f_l, choice = layer_model(self.model, self.layer, poly)
            if self._softmax is not None and choice.layer is self._softmax:
                raise LayerError(f"layer: {choice.name!r} comes after the logits (it is the "
                                 "final softmax); choose a layer at or before the logits")
            f_loop = loop_model(f_l, self.precision) if self.perturbation == "decoys" else f_l
            self._f_l[poly] = (f_l, choice, f_loop)
        f_l, choice, f_loop = self._f_l[poly]
        self._check_gradient_path(logits, f_l, shape)
        p, m = self._patch(shape)
        rf = None
        if self.packing == "receptive_field":
            lo_ = np.zeros(shape, np.float32) if lo is None else lo
            hi_ = np.ones(shape, np.float32) if hi is None else hi
            rf = receptive_field(f_l, shape, lo_, hi_)
        groups = window_groups(shape, p, self.stride, m, self.packing, rf)
        n = len(groups)
        n_items = n if self.perturbation == "constant" else 2 * n
        chunk, base = self._chunk_size(f_l, shape, n_items, variable=poly != shape)
        crop = None
        if (self.use_crops and poly == shape and self.perturbation == "decoys"
                and self.settings.solver == "line_search"):
            lo_ = np.zeros(shape, np.float32) if lo is None else lo
            hi_ = np.ones(shape, np.float32) if hi is None else hi
            crop = plan_crop(f_loop, shape, groups, p, lo_, hi_)
        # one graph for every length of a variable axis: size by the poly shape (None → 64)
        key = (poly, chunk, base, p, self._evals_per_batch(_sized(poly)), crop)
        if key not in self._compiled:
            self._compiled[key] = {
                details: self._compile(logits, f_l, poly, p, chunk, base, details, f_loop,
                                       crop)
                for details in (True, False)}
        plan = _Plan(f_l, choice.name, shape, groups, tf.constant(corner_table(groups)), p,
                     chunk, n, n_items, self._compiled[key], f_loop, crop)
        self._plans[shape] = plan
        return plan

    def _poly_shape(self, shape: tuple) -> tuple:
        """The model's own input shape where it has variable axes (one graph for all)."""
        declared = self._input_shape()
        if declared is None or len(declared) != len(shape):
            return shape
        return tuple(None if d is None else s for d, s in zip(declared, shape))

    def _check_gradient_path(self, logits, f_l, shape):
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

    def _chunk_size(self, f_l, shape, n_items: int, variable: bool = False
                    ) -> tuple[int, int]:
        """(decoys per optimised batch, decoys per base-method batch), from
        ``decoy_batch_size`` or the memory budget.

        The decoy loop holds layers 1..ℓ only; the base method runs the whole model, so its
        batch is sized separately and divides the decoy batch. For models with variable axes
        the decoy batch is a power of two, so that a few compiled graphs serve every input
        length (padding items are ignored).
        """
        budget = self.memory_budget_mb * 2**20
        per_decoy = 4.0 * (14 * math.prod(shape) + 3 * _activation_elems(f_l, shape))
        per_map = self._per_map_bytes(shape)
        if max(per_decoy, per_map) > budget:
            raise BudgetError(
                f"memory_budget_mb: {self.memory_budget_mb} MB cannot hold one decoy "
                f"(~{max(per_decoy, per_map) / 2**20:.1f} MB each); raise memory_budget_mb, "
                "or lower the input size or choose an earlier layer")
        if self.decoy_batch_size is not None:
            fit = int(self.decoy_batch_size)
        else:
            fit = int(budget // per_decoy)
        base_max = self._evals_per_batch(shape)
        if variable:
            chunk = int(max(1, min(fit, 2 ** math.ceil(math.log2(n_items)))))
            base = 2 ** int(math.log2(min(chunk, base_max)))  # divides the power-of-two chunk
            return max(base, chunk - chunk % base), base
        return balanced_chunks(n_items, max(1, fit), base_max)

    def _per_map_bytes(self, shape) -> float:
        """Bytes one model evaluation of the base method holds (input gradient of the whole
        model): measured on vgg_16 at 224² on CPU, 64–70 MB per image against 58 MB of
        activations, so activations × 1.5 plus a few input-sized buffers."""
        return 4.0 * (4 * math.prod(shape) + 1.5 * _activation_elems(self._logits, shape))

    def _evals_per_batch(self, shape) -> int:
        """Model evaluations that fit the memory budget at once: the ``batch_size`` given to
        base methods that expand each decoy (IG steps, SmoothGrad samples, ...)."""
        return int(max(1, self.memory_budget_mb * 2**20 // self._per_map_bytes(shape)))

    def _method_options(self, shape) -> dict:
        """``method_options``, plus a ``batch_size`` from the memory budget for base methods
        that take one (unless the caller set it): IG's 50 steps of 8 decoys would otherwise
        evaluate 64 images at once whatever the budget."""
        opts = dict(self.method_options)
        if "batch_size" not in opts:
            try:
                params = inspect.signature(self._method).parameters
            except (TypeError, ValueError):
                params = {}
            if "batch_size" in params:
                opts["batch_size"] = self._evals_per_batch(shape)
        return opts

    # ------------------------------------------------------------------ the graph
    def _compile(self, logits, f_l, poly_shape, patch, chunk, base, details, f_loop=None,
                 crop=None):
        """One tf.function for every input of ``poly_shape`` (None = variable axis)."""
        method = self._method
        opts = self._method_options(_sized(poly_shape))
        eager_method = self._eager_method
        settings = self.settings
        perturbation = self.perturbation
        aggregation = self.aggregation
        noise_level = self.noise_level
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
                              lambda: _relative_epsilon(ref, settings.epsilon_rel))
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
                        maps = _eager_call(method, logits, part, targets, opts)
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

    # ------------------------------------------------------------------ public
    def prepare(self, x, target: int | None = None) -> tuple[_Plan, tuple, np.ndarray, int]:
        """Validate one input and compute what the compiled pipeline needs (numpy edge).

        Returns (plan, args for ``plan.run``, the checked x, the target class or −1 for
        the predicted class, which the compiled pipeline computes, as it computes a
        relative ε: no eager forward pass before it).
        """
        x = self._check_x(x)
        lo, hi = self._range(x)
        x, lo_b, hi_b = self._bounded_range(x, lo, hi)
        plan = self.plan(x.shape, lo, hi)
        xt = tf.constant(x)
        c = -1 if target is None else self._target(target, self._n_classes(xt))
        eps = -1.0 if self.settings.epsilon is None else self.settings.epsilon
        if self.constant is not None:
            constant = np.asarray(self.constant, np.float32)
        elif self.perturbation == "constant":  # the mean pixel / mean of x per channel
            constant = ablations.default_constant(xt).numpy()
        else:
            constant = np.float32(0.0)  # unused
        constant = tf.constant(np.broadcast_to(constant, x.shape))
        args = (xt, tf.constant(c, tf.int32), tf.constant(lo_b), tf.constant(hi_b),
                tf.constant(eps, tf.float32), constant, tf.constant(self.seed, tf.int32))
        return plan, args, x, c

    def result(self, plan: _Plan, args: tuple, outputs, return_details: bool):
        """Turn the outputs of ``plan.run`` into a map or an ``Explanation``."""
        (sal, inputs, dev, cert, steps, target, epsilon, objective, pinned, against,
         finite) = outputs
        sal = sal.numpy()
        if not bool(finite.numpy()):
            raise InputError("x: the model computes non-finite values at this input (its "
                             "logits or layer ℓ overflow or hold NaN): the explanation "
                             "cannot be computed")
        if not np.all(np.isfinite(sal)):
            raise FloatingPointError(f"saliency: the {self.method_name!r} map is not finite "
                                     "at this input (NaN or inf in the base method's "
                                     "gradients): no map is returned")
        cert_np, objective_np = cert.numpy(), objective.numpy()
        uninformative = _check_informative(self.perturbation, cert_np, objective_np)
        if not return_details:
            return sal
        shape = tuple(sal.shape)
        return Explanation(
            saliency=sal,
            feature_saliency=feature_scores(sal, feature_axes(shape), "abs_mean"),
            masks=plan.masks,
            decoys=inputs.numpy(),
            max_deviation=dev.numpy(),
            certified=cert_np,
            steps=steps.numpy(),
            objective=objective_np,
            pinned=pinned.numpy(),
            against=against.numpy(),
            informative=not uninformative,
            epsilon=float(epsilon.numpy()),
            target=int(target.numpy()),
            layer=plan.layer,
            method=self.method_name,
            perturbation=self.perturbation,
            aggregation=self.aggregation,
        )

    def explain(self, x, target: int | None = None, return_details: bool = False):
        """Explain one unbatched input x (shape S) for class ``target`` (None: predicted).

        Returns the decoy-enhanced saliency map (*S) as numpy, or an ``Explanation`` with
        diagnostics when ``return_details`` is true (§3.3–3.4).
        """
        plan, args, x, _ = self.prepare(x, target)
        run = plan.run if return_details else plan.run_maps
        try:
            outputs = run(*args)
        except Exception as err:  # noqa: BLE001 - only user callables get a second chance
            if self._builtin_method or self._eager_method:
                raise
            warnings.warn(f"method {self.method_name!r} does not run inside a tf.function "
                          f"({type(err).__name__}: {err}); calling it eagerly on each chunk "
                          "of decoys", stacklevel=2)
            self._eager_method = True
            self._plans.clear()
            self._compiled.clear()
            self._batch_fns.clear()
            plan, args, x, _ = self.prepare(x, target)
            run = plan.run if return_details else plan.run_maps
            outputs = run(*args)
        return self.result(plan, args, outputs, return_details)

    def __call__(self, x, targets=None, *, target=None, return_details: bool = False):
        """DANCE maps of one input (*S) or a batch (N, *S) — numpy, a tensor, or a
        ``tf.data.Dataset`` of inputs or of batches — for ``targets`` (an int, (N,) ints
        or None: the predicted classes). Returns maps shaped like x (numpy), or
        ``Explanation`` objects (one, or a list for a batch) with ``return_details``.
        ``target=`` is the older spelling for one input. The inputs of a batch run one
        after another through the compiled pipeline (one trace per input shape)."""
        if target is not None:
            if targets is not None:
                raise TypeError("targets and target: give one of them")
            targets = target
        x = _gather(x, self._input_ndim())
        if not self._is_batch(x):
            return self.explain(x, target=targets, return_details=return_details)
        targets = self._batch_targets(targets, len(x))
        if return_details:
            return [self.explain(xi, target=t, return_details=True)
                    for xi, t in zip(x, targets)]
        if self._builtin_method and len(x) > 1:   # graph-safe: one compiled call
            return self._explain_many(x, targets)
        return self.explain_batch(x, targets)

    def _explain_many(self, xs: np.ndarray, targets: list) -> np.ndarray:
        """Maps of a batch (N, *S) through ``pipeline_batch`` (one compiled call, inputs
        one after another in graph), after the checks ``explain`` makes at its edge."""
        from dance_tf.pipeline_batch import compiled_batch

        checked = np.stack([self._check_x(xi) for xi in xs])
        self._range(checked[0])   # warns once when value_range is not given
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for xi in checked[1:]:
                self._range(xi)   # refuses inputs outside value_range
        shape = tuple(checked.shape[1:])
        n_cls = class_count(self.logits_model(shape))
        if n_cls is None:
            n_cls = self._n_classes(tf.constant(checked[0]))
        t = np.array([-1 if v is None else self._target(v, n_cls) for v in targets],
                     np.int32)
        fn = self._batch_fns.get(shape)
        if fn is None:
            fn = self._batch_fns[shape] = compiled_batch(self, shape)
        try:
            out = fn(tf.constant(checked), tf.constant(t))
        except tf.errors.InvalidArgumentError as err:
            raise InputError(f"x: {err.message.splitlines()[0]}") from err
        if self.perturbation == "decoys":
            frac, moved = out["fraction_certified"].numpy(), out["fraction_moved"].numpy()
            empty = np.flatnonzero((frac == 0) | (moved == 0))
            if empty.size:
                warnings.warn(f"inputs {empty.tolist()} of the batch: no decoy moved or none "
                              "was certified; their maps carry no decoy information",
                              DecoyWarning, stacklevel=3)
        return out["saliency"].numpy()

    def base_map(self, x, targets=None) -> np.ndarray:
        """The base method's map without decoys, on the logits this explainer explains:
        one input (*S) or a batch (N, *S) → maps of the same shape (numpy); targets as in
        ``__call__``. The "without decoys" column of every comparison (§4.2)."""
        x = _gather(x, self._input_ndim())
        batched = self._is_batch(x)
        xs = x if batched else x[None]
        for xi in xs:
            self._check_x(xi)
        xs = np.asarray(xs, np.float32)
        logits = self._logits_model(tuple(xs.shape[1:]))
        if targets is None:
            t = np.argmax(np.asarray(logits(tf.constant(xs), training=False)), axis=-1)
        else:
            n_cls = self._n_classes(xs[0])
            t = np.array([self._target(v, n_cls)
                          for v in self._batch_targets(targets if batched else [targets],
                                                       len(xs))])
        maps = np.asarray(self._method(logits, xs, t.astype(np.int32), **self.method_options),
                          np.float32)
        return maps if batched else maps[0]

    def _input_ndim(self) -> int | None:
        expected = self._input_shape()
        return None if expected is None else len(expected)

    def _is_batch(self, x: np.ndarray) -> bool:
        """Whether x carries a batch axis (one more axis than the model's input)."""
        n = self._input_ndim()
        return n is not None and np.ndim(x) == n + 1

    @staticmethod
    def _batch_targets(targets, n: int) -> list:
        if targets is None:
            return [None] * n
        if np.ndim(targets) == 0:
            return [targets] * n
        targets = list(np.asarray(targets).tolist())
        if len(targets) != n:
            raise InputError(f"targets: expected {n} entries, got {len(targets)}")
        return targets

    def explain_batch(self, xs, targets=None, show_progress: bool | None = None
                      ) -> np.ndarray:
        """Explain each input of a batch (N, *S) in turn; returns (N, *S) maps.

        show_progress: a progress bar on stderr (a tqdm bar on a terminal, plain lines
        otherwise); None shows it for batches of more than 4 inputs."""
        from dance_tf.progress import progress

        xs = np.asarray(xs)
        if xs.ndim == 0 or len(xs) == 0:
            raise InputError(f"xs: expected a non-empty batch (N, *S), got shape {xs.shape}")
        if targets is None:
            targets = [None] * len(xs)
        if len(targets) != len(xs):
            raise InputError(f"targets: expected {len(xs)} entries, got {len(targets)}")
        show = len(xs) > 4 if show_progress is None else bool(show_progress)
        bar = progress(len(xs), desc="DANCE explain_batch", unit="input", enabled=show)
        maps = []
        try:
            for x, t in zip(xs, targets):
                maps.append(self.explain(x, t))
                bar.update(1)
        finally:
            bar.close()
        return np.stack(maps)

    def _n_classes(self, xt) -> int:
        """The number of classes: the logits' static width, else one forward pass."""
        width = class_count(self._logits)
        if width is not None:
            return width
        return int(self._logits(xt[None], training=False).shape[-1])

    def _target(self, target, n_classes: int) -> int:
        if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
            raise TypeError(f"target: expected an integer class index, got {target!r}")
        if not 0 <= int(target) < n_classes:
            raise InputError(f"target: expected a class index in [0, {n_classes}), "
                             f"got {target}")
        return int(target)


def _gather(x, input_ndim: int | None):
    """numpy from a tensor, an array-like or a ``tf.data.Dataset`` whose elements are
    inputs (rank ``input_ndim``) or batches of inputs (concatenated)."""
    if isinstance(x, tf.data.Dataset):
        parts = [np.asarray(e) for e in x.as_numpy_iterator()]
        if not parts:
            raise InputError("x: the dataset is empty")
        if len({p.ndim for p in parts}) != 1:
            raise InputError("x: the dataset mixes single inputs and batches")
        if input_ndim is not None and parts[0].ndim == input_ndim + 1:
            return np.concatenate(parts)
        return np.stack(parts)
    if tf.is_tensor(x):
        return x.numpy()
    return np.asarray(x)


def range_tolerance(lo: np.ndarray, hi: np.ndarray) -> float:
    """How far outside [lo, hi] an input may lie (float rounding of a preprocessing step)
    before it is refused; inside the tolerance it is clipped into the range."""
    return 1e-5 * max(1.0, float(np.max(np.abs(hi))), float(np.max(np.abs(lo))))


def _refuse_probabilities(logits, shape: tuple) -> None:
    """A model whose (stripped) outputs are still probabilities is refused: on two random
    inputs every row lies in [0, 1] and sums to 1 (a softmax written in a form that could
    not be stripped, e.g. inside a Lambda layer or a subclassed call)."""
    probe = np.random.default_rng(0).normal(size=(2,) + tuple(shape)).astype(np.float32)
    out = np.asarray(logits(tf.constant(probe), training=False), np.float64)
    if out.ndim == 2 and out.shape[1] > 1 and np.all(np.isfinite(out)) and np.all(
            out >= 0) and np.all(out <= 1) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        raise InputError("model: its outputs are probabilities (every row in [0, 1] sums to "
                         "1) and the final softmax could not be stripped; pass the model "
                         "that outputs logits (DANCE explains the pre-softmax scores)")


def _check_model_io(model) -> None:
    """The model contract: one input, one output of shape (N, classes)."""
    inputs = getattr(model, "inputs", None)
    if inputs is not None and len(inputs) != 1:
        raise InputError(f"model: expected a model with one input, got {len(inputs)} inputs")
    outputs = getattr(model, "outputs", None)
    if outputs is None:
        return
    if len(outputs) != 1:
        raise InputError(f"model: expected one output (logits of shape (N, classes)), got "
                         f"{len(outputs)} outputs; wrap the model so it returns one")
    shape = tuple(outputs[0].shape)
    if len(shape) != 2:
        raise InputError(f"model: expected an output of shape (N, classes), got "
                         f"{shape} (rank {len(shape)}); add the classifier head or reshape")


def _base_method(method, base, method_options, extra) -> BaseMethod:
    """The explainer's base method: ``base`` (a ``BaseMethod`` or anything
    ``saliency.get`` takes) or ``method``, with ``method_options`` (a dict: the base
    method's own namespace, so Grad-CAM's ``layer`` or SmoothGrad's ``seed`` are never
    taken for the explainer's) and any other keyword options (the older spelling)."""
    if method_options is not None and not isinstance(method_options, dict):
        raise TypeError(f"method_options: expected a dict, got {type(method_options).__name__}")
    both = sorted(set(method_options or {}) & set(extra))
    if both:
        raise TypeError(f"method options {both} given twice (in method_options and as "
                        "keywords)")
    options = {**extra, **(method_options or {})}
    if base is not None:
        if method != "gradient":
            raise TypeError("base and method: give one of them (base=saliency.get(...) is "
                            "the base method with its options)")
        method = base
    fn = method.fn if isinstance(method, BaseMethod) else resolve_method(method)[1]
    explainer = [n for n in inspect.signature(Explainer.__init__).parameters
                 if n not in ("self", "model", "extra_method_options")]
    check_options(fn, {**getattr(method, "options", {}), **options}, tuple(explainer))
    return get_base(method, **options)


#: per-decoy diagnostics the compiled pipeline returns, with their dtypes
PER_DECOY = {"max_deviation": tf.float32, "certified": tf.bool, "steps": tf.int32,
             "objective": tf.float32, "pinned": tf.bool, "against": tf.float32}


class DecoyWarning(UserWarning):
    """A decoy-enhanced map that carries no decoy information (no decoy moved)."""


def _check_informative(perturbation: str, certified: np.ndarray, objective: np.ndarray
                       ) -> bool:
    """Warn (``DecoyWarning``) when no decoy of an input moved or none was certified;
    returns True in that case. Only for ``perturbation="decoys"``."""
    if perturbation != "decoys" or certified.size == 0:
        return False
    if not certified.any():
        warnings.warn(f"none of the {certified.size} decoys could be certified: every decoy "
                      "was replaced by x, so the map carries no decoy information (check "
                      "epsilon, value_range and the model's outputs for NaN)",
                      DecoyWarning, stacklevel=3)
        return True
    if not (objective > 0).any():
        warnings.warn(f"none of the {certified.size} decoys moved from x (epsilon too small "
                      "for any move, or x at the bounds of value_range): the map carries no "
                      "decoy information", DecoyWarning, stacklevel=3)
        return True
    return False


def _sized(poly_shape: tuple) -> tuple:
    """A concrete shape for memory estimates: variable axes (None) count as 64."""
    return tuple(64 if s is None else int(s) for s in poly_shape)


def _relative_epsilon(ref: tf.Tensor, rel: float) -> tf.Tensor:
    """ε = rel × max|F_ℓ(x)| from ref = F_ℓ(x) (> 0: 1e-6 when F_ℓ(x) is all zero)."""
    top = tf.cast(tf.reduce_max(tf.abs(ref)), tf.float64)
    eps = tf.cast(rel * top, tf.float32)
    return tf.where(eps > 0, eps, tf.constant(1e-6, tf.float32))


def _eager_call(method, model, inputs, targets, opts) -> tf.Tensor:
    """Run a non-graph-safe base method eagerly (numpy in, maps out) from inside the graph."""

    def call(xs, ts):
        return np.asarray(method(model, xs, ts, **opts), np.float32)

    maps = tf.numpy_function(call, [inputs, targets], tf.float32, stateful=False)
    maps.set_shape(inputs.shape)
    return maps


def balanced_chunks(n_items: int, fit: int, base_max: int) -> tuple[int, int]:
    """(chunk, base) for ``n_items`` decoys: chunks of at most ``fit`` decoys, each split
    into equal base-method batches of at most ``base_max``, with as little padding as
    possible (every padded slot is optimised and explained for nothing).

    The chunks are balanced (16 decoys, fit 16, base_max 5 → one chunk of 16 in 4 batches
    of 4, not chunks of 15 + 1 padded to 15, which doubled the work).
    """
    n_chunks = math.ceil(n_items / fit)
    while True:
        chunk = math.ceil(n_items / n_chunks)
        parts = math.ceil(chunk / base_max)
        base = math.ceil(chunk / parts)
        if base * parts <= fit or n_chunks >= n_items:
            return base * parts, base
        n_chunks += 1


def _activation_elems(model, shape: tuple = ()) -> int:
    """Rough count of per-example activation elements in a model (for chunk sizing);
    variable axes (None) count as the matching axis of ``shape`` or 64."""
    total = 0
    for lay in getattr(model, "layers", []):
        try:
            out_shape = lay.output.shape
        except (AttributeError, ValueError):
            continue
        if isinstance(out_shape, (list, tuple)) and out_shape and all(
                isinstance(d, (int, type(None))) for d in out_shape):
            dims = [d if d is not None else (shape[i] if i < len(shape) else 64)
                    for i, d in enumerate(out_shape[1:])]
            total += math.prod(int(d) for d in dims)
        if hasattr(lay, "layers"):
            total += _activation_elems(lay, shape)
    return max(total, 1)


#: explainers reused by ``explain`` (most recently used last), at most ``_CACHE_SIZE``
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


def _hashable(value):
    """A hashable, exact stand-in for an option value (arrays by content, not repr)."""
    if isinstance(value, np.ndarray) or tf.is_tensor(value):
        arr = np.asarray(value)
        return ("array", arr.shape, arr.dtype.str, hashlib.sha256(arr.tobytes()).hexdigest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def cached_explainer(model, **settings) -> Explainer:
    """An ``Explainer(model, **settings)`` reused across calls with the same model object
    and equal settings (so a loop over ``explain`` compiles once). The cache holds the
    last ``_CACHE_SIZE`` explainers (and so their models); ``_CACHE.clear()`` empties it."""
    bound = inspect.signature(Explainer.__init__).bind(None, model, **settings)
    bound.apply_defaults()   # explain(model, x) and cached_explainer(model) share a key
    canon = {k: v for k, v in bound.arguments.items() if k not in ("self", "model")}
    key = (id(model), _hashable(canon))
    hit = _CACHE.get(key)
    if hit is not None and hit.model is model:
        _CACHE.move_to_end(key)
        return hit
    explainer = Explainer(model, **settings)
    _CACHE[key] = explainer
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return explainer


def explain(model, x, *, method="gradient", layer=None, target=None, value_range=None,
            aggregation="range", patch_size=None, stride=1, patches_per_mask=None, seed=0,
            solver="line_search", return_details=False, **options):
    """One-line DANCE (§3): the decoy-enhanced saliency map of one unbatched input x (*S),
    or of a batch (N, *S) (see ``Explainer.__call__``).

    Returns numpy maps shaped like x, or ``Explanation``(s) with ``return_details``.
    ``options`` are any other ``Explainer`` options (``method_options={...}``, ``base=``,
    ...). The explainer is cached per model object and settings, so a loop over
    ``explain`` compiles once, like a reused ``Explainer``.
    """
    explainer = cached_explainer(model, method=method, layer=layer, value_range=value_range,
                                 aggregation=aggregation, patch_size=patch_size, stride=stride,
                                 patches_per_mask=patches_per_mask, seed=seed, solver=solver,
                                 **options)
    return explainer(x, target, return_details=return_details)
