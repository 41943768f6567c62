"""The metrics ``evaluate_model`` can run: name → how to call it, its direction (is a
higher or a lower score better), whether it needs masks, and whether it ranks features.

Each metric is resolved from :mod:`dance_tf.metrics` when a run starts (``fn=None``), so
this table names metrics that a version of the package may not ship yet; asking for one
it lacks is an error naming it. A user metric registers with :func:`register_metric`.

The four calling conventions (``call``), all returning (N,) scores:
``model``: ``fn(model, x, maps, targets, **options)`` (SF, deletion / insertion AUC,
MuFidelity, ROAD); ``explain``: ``fn(explain_fn, x, targets, **options)`` with
``explain_fn(x, targets) -> maps`` (max- and avg-sensitivity); ``maps``: ``fn(maps)``
(sparseness); ``masks``: ``fn(maps, masks)`` (pointing game, relevance mass).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dance_tf.evaluation.results import EvaluationError

CALLS = ("model", "explain", "maps", "masks")
DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class MetricSpec:
    """One metric. name: its key in rows and reports; call: one of CALLS; direction:
    "higher" / "lower" is better (None: ``dance_tf.metrics.DIRECTION[name]``); features:
    maps reduced to one |score| per feature (mean over channels, as SF ranks them) before
    the call, else given as computed (signed, shaped like x); fn: the function (None:
    ``dance_tf.metrics.<name>``); curves: an option that makes ``fn`` return (scores
    (N,), curves (N, steps)), drawn in the report; options: defaults of its options."""

    name: str
    call: str
    direction: str | None = None
    features: bool = True
    fn: Callable | None = None
    curves: str | None = None
    options: Mapping = field(default_factory=dict)

    @property
    def needs_masks(self) -> bool:
        return self.call == "masks"

    def function(self) -> Callable:
        """The metric's function (imported from dance_tf.metrics when not given)."""
        if self.fn is not None:
            return self.fn
        module = importlib.import_module("dance_tf.metrics")
        fn = getattr(module, self.name, None)
        if not callable(fn):
            raise EvaluationError(f"metric {self.name!r}: dance_tf.metrics.{self.name} is "
                                  "not available in this version of dance_tf")
        return fn

    def better(self) -> str:
        """"higher" or "lower": which scores are better."""
        direction = self.direction
        if direction is None:
            table = getattr(importlib.import_module("dance_tf.metrics"), "DIRECTION", {})
            direction = table.get(self.name)
        if direction not in DIRECTIONS:
            raise EvaluationError(f"metric {self.name!r}: its direction is unknown (expected "
                                  f"one of {DIRECTIONS} in dance_tf.metrics.DIRECTION)")
        return direction


#: the metrics of issue 25 and the paper's two fidelities (Eq. 6 and its continuous form)
METRICS: dict[str, MetricSpec] = {s.name: s for s in (
    MetricSpec("fidelity", "model", "lower", options={"k": 0.2}),
    MetricSpec("fidelity_continuous", "model", "lower"),
    MetricSpec("deletion_auc", "model", curves="return_curve"),
    MetricSpec("insertion_auc", "model", curves="return_curve"),
    MetricSpec("mufidelity", "model", features=False),
    MetricSpec("road", "model"),
    MetricSpec("max_sensitivity", "explain", features=False),
    MetricSpec("avg_sensitivity", "explain", features=False),
    MetricSpec("sparseness", "maps"),
    MetricSpec("pointing_game", "masks"),
    MetricSpec("relevance_mass", "masks"),
)}
#: what runs when ``metrics`` is not given: those of them this version ships
DEFAULT_METRICS = ("fidelity", "fidelity_continuous", "deletion_auc", "insertion_auc",
                   "mufidelity", "road", "max_sensitivity", "sparseness")


def register_metric(spec: MetricSpec) -> None:
    """Add (or replace) a metric of the table; ``spec.call`` and ``spec.direction`` are
    checked here."""
    if not isinstance(spec, MetricSpec):
        raise TypeError(f"spec: expected a MetricSpec, got {type(spec).__name__}")
    if spec.call not in CALLS:
        raise ValueError(f"call: expected one of {CALLS}, got {spec.call!r}")
    if spec.direction is not None and spec.direction not in DIRECTIONS:
        raise ValueError(f"direction: expected one of {DIRECTIONS}, got {spec.direction!r}")
    METRICS[spec.name] = spec


def available(name: str) -> bool:
    try:
        METRICS[name].function()
        METRICS[name].better()
    except EvaluationError:
        return False
    return True


def chosen(metrics, log=print) -> dict[str, dict]:
    """``metrics`` (None: the defaults this version ships; names; or a mapping name →
    options) → {name: options}, every name known, available and directed."""
    if metrics is None:
        names = [m for m in DEFAULT_METRICS if available(m)]
        missing = [m for m in DEFAULT_METRICS if m not in names]
        if missing:
            log(f"evaluate_model: metrics {missing} are not in this version; running {names}")
        metrics = names
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        items = [(m, {}) for m in metrics]
    if not items:
        raise ValueError("metrics: expected at least one metric")
    out = {}
    for name, options in items:
        if name not in METRICS:
            raise ValueError(f"metrics: unknown {name!r}; expected some of {sorted(METRICS)}")
        if not isinstance(options, Mapping):
            raise TypeError(f"metrics[{name!r}]: expected a mapping of options, got "
                            f"{options!r}")
        spec = METRICS[name]
        spec.function()
        spec.better()
        out[name] = {**spec.options, **options}
    return out
