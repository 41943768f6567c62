"""The DANCE explainer (§3, S1): it composes the steps, each in its own module.

``Explainer`` is configured once and called on many inputs. Per input: the checks at the
numpy edge (``inputs``), a plan built once per input shape (``planning``: F_ℓ, masks, chunk
sizes from ``sizing``) holding one compiled graph (``pipeline``: decoys → base method →
aggregation), and the packing of its outputs (``explanation``). Batches go through the
in-graph batch pipeline (``pipeline_batch``), the one a SavedModel export saves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import warnings
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from dance_tf import explainer_options, inputs, model_contract, planning, sizing
from dance_tf.decoys import ablations
from dance_tf.errors import DanceError, InputError
from dance_tf.explained_model import ExplainedModel
from dance_tf.explanation import DecoyWarning, Explanation, pack
from dance_tf.pipeline import Plan
from dance_tf.saliency.base import for_explainer

if TYPE_CHECKING:
    from collections.abc import Callable

    import keras
    from numpy.typing import ArrayLike

    from dance_tf.saliency.base import BaseMethod

range_tolerance = inputs.range_tolerance
__all__ = ["DecoyWarning", "Explainer", "Explanation", "explain", "range_tolerance"]


class Explainer:
    """DANCE explainer for a Keras classifier that outputs logits (§3): configured once,
    called on one input or a batch (``__call__``). The options, with the paper's defaults
    in brackets (Table S1), are listed below (the table ``dance_tf.options``).
    """

    def __init__(self, model: keras.Model, *, method: str | Callable = "gradient",
                 base: BaseMethod | None = None, method_options: dict | None = None,
                 layer: str | int | keras.Model | None = None, value_range=None,
                 aggregation: str = "range", perturbation: str = "decoys",
                 patch_size: int | None = None, stride: int = 1,
                 patches_per_mask: int | None = None, packing: str = "paper",
                 target_decoys: int = 200,
                 epsilon: float | None = None, epsilon_rel: float = 0.05,
                 solver: str = "line_search", line_grid: int = 8, line_bisect: int = 8,
                 refine_steps: int = 0, refine_grid: int = 6,
                 lambda0: float = 1e4, tau0: float = 1.0, max_steps: int = 20,
                 learning_rate: float = 0.1, init_noise: float = 0.01, patience: int = 2,
                 backoff: float = 0.5,
                 deviation_bound=None, constant=None, noise_level: float = 0.1,
                 decoy_batch_size: int | None = None, memory_budget_mb: float | None = None,
                 use_crops: bool = True,
                 precision: str = "float32", seed: int = 0, output=None,
                 **extra_method_options):
        opts = explainer_options.checked({k: v for k, v in locals().items()
                                          if k not in ("self", "model", "extra_method_options")})
        self.model, self.output, self._options = model, output, opts
        self._model = ExplainedModel(model, output)   # the contract, checked on entry
        names = [n for n in inspect.signature(Explainer.__init__).parameters
                 if n not in ("self", "model", "extra_method_options")]
        self.base = for_explainer(method, base, method_options, extra_method_options, names)
        self.method_name, self._method = self.base.name, self.base.fn
        self.method_options = dict(self.base.options)
        # graph-safe methods never fall back; numpy ones (declared, or found on the first
        # run) run through tf.numpy_function on each chunk of decoys
        self._builtin_method = self.base.graph_safe is True
        self._eager_method = self.base.graph_safe is False
        self.layer = layer
        for name in ("value_range", "aggregation", "perturbation", "patch_size", "stride",
                     "patches_per_mask", "packing", "target_decoys", "deviation_bound",
                     "constant", "decoy_batch_size", "precision"):
            setattr(self, name, opts[name])
        self.settings = opts.settings
        self.noise_level = float(opts["noise_level"])
        self.use_crops = bool(use_crops)
        budget = opts["memory_budget_mb"]
        self.memory_budget_mb = sizing.device_budget_mb() if budget is None else float(budget)
        self.seed = int(opts["seed"])
        self._cache = planning.PlanCache()   # plans, F_ℓ and compiled graphs, owned here

    @property
    def options(self) -> explainer_options.ExplainerOptions:
        """The checked options (frozen; ``dance_tf.explainer_options``)."""
        return self._options

    # ------------------------------------------------------------------ the model
    def contract(self, example=None) -> model_contract.ModelContract:
        """The checked model contract (``dance_tf.model_contract``): input, the output
        explained, the stripped head, dtypes. example: an input or a batch, needed only
        for a model that declares no input (it is built on it)."""
        return self._model.contract(example)

    @property
    def input_shape(self) -> tuple | None:
        """One unbatched input's shape S as the model declares it (None = any size)."""
        c = self._model.resolved
        return None if c is None else c.input_shape

    @property
    def explained(self) -> str:
        """What the maps explain, e.g. "logits (final softmax stripped)"."""
        return self.contract().explained

    @property
    def runs_eagerly(self) -> bool:
        """Whether the base method runs eagerly (numpy inside: declared, or found on the
        first run); such an explainer cannot be exported."""
        return bool(self._eager_method)

    def logits_model(self, shape) -> object:
        """The model of the float32 logits DANCE explains (a final softmax / log-softmax /
        sigmoid stripped); refused when they look like probabilities at ``shape``."""
        return self._model.logits(shape)

    def n_classes(self, xt) -> int:
        """The number of classes: the logits' static width, else one forward pass."""
        return self._model.n_classes(xt)

    # ------------------------------------------------------------------ planning
    def plan(self, shape: tuple[int, ...], lo=None, hi=None) -> Plan:
        """F_ℓ, the masks and the compiled pipeline for inputs of ``shape`` (built once;
        ``dance_tf.planning``); lo, hi: the legal range (*S), None for [0, 1]."""
        shape = tuple(int(s) for s in shape)
        plan = self._cache.plans.get(shape)
        if plan is None:
            self.logits_model(shape)   # refuses probabilities before anything is built
            recipe = planning.Recipe(self.contract(), self._options, self._method,
                                     self.method_options, bool(self._eager_method),
                                     self.memory_budget_mb)
            plan = self._cache.plan(recipe, shape, lo, hi)
        return plan

    def inputs_in_flight(self, plan: Plan, limit: int = 8) -> int:
        """Inputs of a batch that may run at once within the memory budget (``sizing``)."""
        return sizing.inputs_in_flight(self.memory_budget_mb, self.contract().logits, plan,
                                       limit)

    # ------------------------------------------------------------------ one input
    def prepare(self, x, target: int | None = None) -> tuple[Plan, tuple, np.ndarray, int]:
        """Validate one input and compute what the compiled pipeline needs (numpy edge).

        Returns (plan, args for ``plan.run``, the checked x, the target class or −1 for
        the predicted class, which the compiled pipeline computes, as it computes a
        relative ε: no eager forward pass before it).
        """
        x = inputs.check_input(x, self.input_shape)
        lo, hi = inputs.legal_range(x, self.value_range)
        x, lo_b, hi_b = inputs.bounded_range(x, lo, hi, self.deviation_bound)
        plan = self.plan(x.shape, lo, hi)
        xt = tf.constant(x)
        c = -1 if target is None else inputs.check_target(target, self.n_classes(xt))
        eps = -1.0 if self.settings.epsilon is None else self.settings.epsilon
        constant = tf.constant(ablations.constant_for(self.constant, self.perturbation, x))
        args = (xt, tf.constant(c, tf.int32), tf.constant(lo_b), tf.constant(hi_b),
                tf.constant(eps, tf.float32), constant, tf.constant(self.seed, tf.int32))
        return plan, args, x, c

    def result(self, plan: Plan, args: tuple, outputs, return_details: bool):
        """Turn the outputs of ``plan.run`` into a map or an ``Explanation``."""
        c = self._model.resolved   # resolved and probed when the plan was built
        return pack(outputs, args[0].numpy(), plan, c.logits, method=self.method_name,
                    perturbation=self.perturbation, aggregation=self.aggregation,
                    explained=c.explained, notes=c.notes, return_details=return_details)

    def explain(self, x: ArrayLike, target: int | None = None, return_details: bool = False):
        """Explain one unbatched input x (shape S) for class ``target`` (None: predicted).

        Returns the decoy-enhanced saliency map (*S) as numpy, or an ``Explanation`` with
        diagnostics when ``return_details`` is true (§3.3–3.4).
        """
        if self._model.resolved is None:
            self.contract(x)   # a model that declares no input is built on x
        plan, args, x, _ = self.prepare(x, target)
        run = plan.run if return_details else plan.run_maps
        try:
            outputs = run(*args)
        except DanceError:
            raise   # a refusal (a wrong output shape, ...) is not a reason to run eagerly
        except Exception as err:  # noqa: BLE001 - only user callables get a second chance
            if self._builtin_method or self._eager_method:
                raise
            warnings.warn(f"method {self.method_name!r} does not run inside a tf.function "
                          f"({type(err).__name__}: {err}); calling it eagerly on each chunk "
                          "of decoys", stacklevel=2)
            self._eager_method = True
            self._cache.clear()
            plan, args, x, _ = self.prepare(x, target)
            run = plan.run if return_details else plan.run_maps
            outputs = run(*args)
        return self.result(plan, args, outputs, return_details)

    def __call__(self, x: ArrayLike, targets: ArrayLike | None = None, *, target=None,
                 return_details: bool = False):
        """DANCE maps of one input (*S) or a batch (N, *S) — numpy, a tensor, or a
        ``tf.data.Dataset`` of inputs, batches or ``(x, y)`` pairs (y: the targets) — for
        ``targets`` (an int, (N,) ints or None: the predicted classes; ``target=``: the older
        spelling). Returns maps shaped like x (numpy), or ``Explanation``(s) with
        ``return_details``. A batch runs as one compiled call (``dance_tf.pipeline_batch``,
        inputs side by side as ``memory_budget_mb`` allows); user callables of unknown graph
        safety and ``return_details`` go input by input."""
        if target is not None:
            if targets is not None:
                raise TypeError("targets and target: give one of them")
            targets = target
        if self._model.resolved is None:
            self._model.resolve(x)
        x, targets, batched = inputs.gather_targets(x, targets, self.input_shape)
        if not batched:
            return self.explain(x, target=targets, return_details=return_details)
        if len(x) == 0:
            raise InputError(f"x: expected a non-empty batch (N, *S), got shape {x.shape}")
        targets = inputs.batch_targets(targets, len(x))
        if return_details:
            return [self.explain(xi, target=t, return_details=True)
                    for xi, t in zip(x, targets)]
        if self._builtin_method and len(x) > 1:   # graph-safe: one compiled call
            from dance_tf.pipeline_batch import explain_many

            return explain_many(self, x, targets, self._cache.batch)
        return self.explain_batch(x, targets)

    def base_map(self, x: ArrayLike, targets: ArrayLike | None = None) -> np.ndarray:
        """The base method's map without decoys, on the logits this explainer explains:
        one input (*S) or a batch (N, *S) → maps of the same shape (numpy); targets as in
        ``__call__``. The "without decoys" column of every comparison (§4.2)."""
        return self._model.base_maps(self._method, self.method_options, x, targets)

    def explain_batch(self, xs, targets=None, show_progress: bool | None = None
                      ) -> np.ndarray:
        """Explain each input of a batch (N, *S) in turn; returns (N, *S) maps.

        show_progress: a progress bar on stderr (a tqdm bar on a terminal, plain lines
        otherwise); None shows it for batches of more than 4 inputs."""
        from dance_tf.progress import progress

        xs = np.asarray(xs)
        if xs.ndim == 0 or len(xs) == 0:
            raise InputError(f"xs: expected a non-empty batch (N, *S), got shape {xs.shape}")
        targets = inputs.batch_targets(targets, len(xs))
        show = len(xs) > 4 if show_progress is None else bool(show_progress)
        maps = []
        with progress(len(xs), desc="DANCE explain_batch", unit="input", enabled=show) as bar:
            for x, t in zip(xs, targets):
                maps.append(self.explain(x, t))
                bar.update(1)
        return np.stack(maps)


Explainer.__doc__ += explainer_options.DOC


def explain(model: keras.Model, x: ArrayLike, *, method: str | Callable = "gradient",
            layer: str | int | None = None, target: int | ArrayLike | None = None,
            value_range=None, aggregation: str = "range", patch_size: int | None = None,
            stride: int = 1, patches_per_mask: int | None = None, seed: int = 0,
            solver: str = "line_search", return_details: bool = False, **options
            ) -> np.ndarray | Explanation | list[Explanation]:
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


# ---------------------------------------------------------------------- the explain cache
# The explainers ``explain`` reuses: one per model object and settings, so a loop over
# ``explain`` compiles once. Settings are keyed by value (``value_key``), never by ``id()``
# alone: Python reuses the id of a freed object, so an id key could hand back the explainer
# of a different base method (issue 24). Objects without a value (callables, models) are
# keyed by identity through ``Same``, which holds a reference, so their id cannot be reused
# while the key lives.

#: explainers reused by ``explain`` (most recently used last), at most ``EXPLAINERS_KEPT``
EXPLAINERS: OrderedDict = OrderedDict()
EXPLAINERS_KEPT = 4


class Same:
    """An identity key that keeps its object alive (equal only to a key of that object)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self) -> int:
        return hash(id(self.obj))

    def __eq__(self, other) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    def __repr__(self) -> str:
        return f"Same({self.obj!r})"


def value_key(value):
    """A hashable encoding of an option value, equal exactly when the values are equal:
    arrays and tensors by dtype, shape and a SHA-256 of their bytes; lists, tuples, dicts
    (sorted by key) and dataclasses (e.g. ``saliency.BaseMethod``) field by field; numbers
    and text with their type (so ``1``, ``1.0`` and ``True`` differ); anything else by
    identity (:class:`Same`, which holds a reference)."""
    if isinstance(value, np.ndarray) or tf.is_tensor(value) or isinstance(value, np.generic):
        arr = np.ascontiguousarray(np.asarray(value))
        if arr.dtype == object:
            return ("object-array", arr.shape, tuple(value_key(v) for v in arr.ravel()))
        return ("array", arr.dtype.str, arr.shape, hashlib.sha256(arr.tobytes()).hexdigest())
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(value_key(v) for v in value)
    if isinstance(value, dict):
        items = [(value_key(k), value_key(v)) for k, v in value.items()]
        return ("dict",) + tuple(sorted(items, key=repr))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__,) + tuple(
            (f.name, value_key(getattr(value, f.name))) for f in dataclasses.fields(value))
    return ("same", Same(value))


def cached_explainer(model, **settings):
    """An ``Explainer(model, **settings)`` reused across calls with the same model object
    and equal settings (so a loop over ``explain`` compiles once). The cache holds the
    last ``EXPLAINERS_KEPT`` explainers (and so their models); ``EXPLAINERS.clear()`` empties it."""
    bound = inspect.signature(Explainer.__init__).bind(None, model, **settings)
    bound.apply_defaults()   # explain(model, x) and cached_explainer(model) share a key
    canon = {k: v for k, v in bound.arguments.items() if k not in ("self", "model")}
    key = (Same(model), value_key(canon))
    hit = EXPLAINERS.get(key)
    if hit is not None:
        EXPLAINERS.move_to_end(key)
        return hit
    explainer = Explainer(model, **settings)
    EXPLAINERS[key] = explainer
    while len(EXPLAINERS) > EXPLAINERS_KEPT:
        EXPLAINERS.popitem(last=False)
    return explainer
