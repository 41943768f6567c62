"""A base method as an object: its name, its function and its own options (§2, S9).

``get("gradcam", layer="conv5")`` builds one; ``Explainer(model, base=...)`` wraps it with
decoys, the way captum's NoiseTunnel wraps an attribution. The options belong to the base
method alone, so they can never be taken for the explainer's own (its ``layer`` ℓ, its
``seed``).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dance_tf.saliency import checks, registry
from dance_tf.saliency.contract import check_maps, checked_method
from dance_tf.saliency.registry import resolve_method


def numpy_method(fn: Callable) -> Callable:
    """Mark a user base method f(model, x, targets) written with numpy: the explainer runs
    it eagerly on each chunk of decoys (and export refuses it) without first trying to
    trace it."""
    fn.graph_safe = False
    return fn


def own_options(fn: Callable) -> list[str] | None:
    """The keyword options of base method ``fn`` (its parameters after model, inputs,
    targets), or None when it takes ``**kwargs`` or has no readable signature."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return list(params)[3:]


def check_options(fn: Callable, options: dict, others: tuple[str, ...] = ()) -> None:
    """Unknown keyword options → TypeError naming them and the closest valid name (among
    ``fn``'s own options and ``others``, e.g. the explainer's)."""
    own = own_options(fn)
    if own is None:
        return
    for key in options:
        if key not in own:
            close = difflib.get_close_matches(key, own + list(others), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            what = "not an Explainer option nor an option" if others else "not an option"
            raise TypeError(f"unknown option {key!r}: {what} of the base method "
                            f"{getattr(fn, '__name__', fn)!r} (its options: {own}){hint}")


@dataclass(frozen=True)
class BaseMethod:
    """A base saliency method with its options bound.

    name: registry name (or the callable's ``__name__``); fn: f(model, inputs, targets,
    **options) -> maps shaped like inputs; options: its own keyword options; graph_safe:
    True for the built-in methods, False for callables marked ``numpy_method``, None when
    unknown (the explainer then finds out on the first run).
    """

    name: str
    fn: Callable
    options: dict = field(default_factory=dict)
    graph_safe: bool | None = None

    @property
    def takes_batch_size(self) -> bool:
        """Whether the method splits its own work into batches (``batch_size`` option)."""
        own = own_options(self.fn)
        return own is not None and "batch_size" in own

    def __call__(self, model, x, targets=None):
        """Maps (N, *S) of a batch x (N, *S) without decoys; targets (N,) ints or None
        (the predicted classes). Numpy in, numpy out; tensors in, tensors out."""
        if targets is None:
            from dance_tf.model_contract import logits_model

            logits, _ = logits_model(model, tuple(np.shape(x)[1:]))
            targets = np.argmax(np.asarray(logits(x, training=False)), axis=-1)
        maps = self.fn(model, x, targets, **self.options)
        if registry.built_in_function(self.fn) is None:   # a user's method: check it
            maps = check_maps(self.name, maps, x)
        if isinstance(x, np.ndarray) and not isinstance(maps, np.ndarray):
            maps = np.asarray(maps)   # a user callable's tensor, at the numpy edge
        return maps


def copied(value):
    """An option value copied on entry: arrays (read-only copies), lists, tuples and dicts
    recursively; anything else (tensors, models, callables) as it is."""
    if isinstance(value, np.ndarray):
        out = value.copy()
        out.flags.writeable = False
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(copied(v) for v in value) if type(value) in (list, tuple) \
            else value
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    return value


def get(method: str | Callable | BaseMethod, **options) -> BaseMethod:
    """The base method ``method`` (a registry name, an alias, a user callable or a
    ``BaseMethod``, whose options ``options`` extend) with ``options`` bound and checked.

    A built-in method's options are checked by their rules (``saliency.checks``: counts
    whole, noise in [0, 1e6], arrays finite); every option is copied, so changing an array
    in place afterwards changes nothing. A user's method gets its output checked on every
    call (``saliency.contract``).

    >>> get("smoothgrad", samples=10, seed=3)     # doctest: +SKIP
    """
    if isinstance(method, BaseMethod):
        name, fn, safe = method.name, method.fn, method.graph_safe
        options = {**method.options, **options}
    else:
        name, fn = resolve_method(method)
        safe = registry.graph_safe(name) if isinstance(method, str) else None
        if safe is None:
            safe = getattr(fn, "graph_safe", None)
    check_options(fn, options)
    if registry.built_in_function(fn) is not None:
        return BaseMethod(name, fn, checks.built_in_options(options), True)
    return BaseMethod(name, checked_method(name, fn), copied(dict(options)), safe)


def for_explainer(method, base, method_options, extra, explainer_options=()) -> BaseMethod:
    """The explainer's base method (``explainer_options``: its own option names, for the
    "did you mean" hint of an unknown option): ``base`` (a ``BaseMethod`` or anything
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
    check_options(fn, {**getattr(method, "options", {}), **options}, tuple(explainer_options))
    return get(method, **options)
