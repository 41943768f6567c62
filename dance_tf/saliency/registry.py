"""Name → base method table, and resolution of user callables.

The built-in methods are listed by "module:function" (imported on first use); a user's
own methods join them by name through :func:`register`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

#: method name → "module:function"; more methods register here (S9)
METHODS: dict[str, str] = {
    "gradient": "dance_tf.saliency.gradient:gradient",
    "integrated_gradients": "dance_tf.saliency.integrated_gradients:integrated_gradients",
    "smoothgrad": "dance_tf.saliency.smoothgrad:smoothgrad",
    "expected_gradients": "dance_tf.saliency.expected_gradients:expected_gradients",
    "vargrad": "dance_tf.saliency.vargrad:vargrad",
    "smoothgrad_range": "dance_tf.saliency.smoothgrad_range:smoothgrad_range",
    "ig_uniform": "dance_tf.saliency.ig_uniform:ig_uniform",
    "gradcam": "dance_tf.saliency.gradcam:gradcam",
}

#: the methods shipped with the package (``register`` adds others, e.g. the study's
#: output-gradient variants)
BUILT_IN: tuple[str, ...] = tuple(METHODS)

#: name → (function, graph_safe) of the methods added by ``register``
REGISTERED: dict[str, tuple[Callable, bool | None]] = {}

ALIASES = {"grad": "gradient", "ig": "integrated_gradients", "intgrad": "integrated_gradients",
           "sg": "smoothgrad", "expgrad": "expected_gradients", "eg": "expected_gradients",
           "sgrange": "smoothgrad_range", "sgradrange": "smoothgrad_range",
           "intuniform": "ig_uniform", "grad_cam": "gradcam", "grad-cam": "gradcam"}


def resolve_method(method: str | Callable) -> tuple[str, Callable]:
    """Return (name, function) for a method name or a user callable f(model, x, targets)."""
    if callable(method):
        return getattr(method, "__name__", "custom"), method
    if not isinstance(method, str):
        raise TypeError(f"method: expected a name or a callable, got {type(method).__name__}")
    name = ALIASES.get(method.lower(), method.lower())
    if name in REGISTERED:
        return name, REGISTERED[name][0]
    if name not in METHODS:
        from dance_tf.errors import InputError

        raise InputError(f"method: unknown {method!r}; expected one of {names()} or a "
                         "callable f(model, inputs, targets) -> maps")
    module, func = METHODS[name].split(":")
    return name, getattr(importlib.import_module(module), func)


def names() -> list[str]:
    """Every method name: the built-in ones, then the registered ones (sorted)."""
    return sorted(METHODS) + sorted(set(REGISTERED) - set(METHODS))


def built_in_function(fn: Callable) -> str | None:
    """The built-in name of function ``fn`` (one of ``BUILT_IN``), or None."""
    for name in BUILT_IN:
        module, func = METHODS[name].split(":")
        if getattr(importlib.import_module(module), func, None) is fn:
            return name
    return None


def graph_safe(name: str) -> bool | None:
    """Whether the method of this (resolved) name runs inside a tf.function: True for the
    built-in ones, as registered for the others (None: unknown)."""
    if name in REGISTERED:
        return REGISTERED[name][1]
    return True if name in METHODS else None


def register(name: str, fn: Callable, *, graph_safe: bool | None = None,
             replace: bool = False) -> Callable:
    """Make base method ``fn`` known by ``name`` (lower case), for ``saliency.get(name)``,
    ``Explainer(method=name)`` and every command that takes a method name (S9: more
    base methods).

    fn: f(model, inputs (N, *S), targets (N,), **options) -> maps (N, *S).
    graph_safe: True if fn runs inside a ``tf.function`` (the explainer compiles it with
    the decoys), False if it needs eager numpy (as ``numpy_method``), None to let the
    explainer find out on the first run. replace: allow replacing a method registered
    earlier under ``name`` (a built-in method or alias is never replaced). Registering
    the same function again under the same name is a no-op. Returns fn.
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise TypeError(f"name: expected a non-empty method name without surrounding "
                        f"spaces, got {name!r}")
    if not callable(fn):
        raise TypeError(f"fn: expected a callable f(model, inputs, targets) -> maps, got "
                        f"{type(fn).__name__}")
    if graph_safe is not None and not isinstance(graph_safe, bool):
        raise TypeError(f"graph_safe: expected True, False or None, got {graph_safe!r}")
    if not isinstance(replace, bool):
        raise TypeError(f"replace: expected True or False, got {replace!r}")
    _check_signature(fn)
    key = name.lower()
    if key in BUILT_IN or key in ALIASES:
        from dance_tf.errors import InputError

        raise InputError(f"name: {name!r} is a built-in base method or alias of one; "
                         "choose another name")
    old = REGISTERED.get(key)
    if old is not None and old != (fn, graph_safe) and not replace:
        from dance_tf.errors import InputError

        raise InputError(f"name: a base method {name!r} is registered already "
                         f"({getattr(old[0], '__qualname__', old[0])!r}); pass replace=True "
                         "to replace it")
    REGISTERED[key] = (fn, graph_safe)
    return fn


def _check_signature(fn: Callable) -> None:
    """fn must accept (model, inputs, targets) positionally, when its signature says."""
    try:
        inspect.signature(fn).bind(None, None, None)
    except ValueError:   # no readable signature (a builtin): trust it
        return
    except TypeError as err:
        raise TypeError(f"fn: a base method is called as f(model, inputs, targets, "
                        f"**options); {getattr(fn, '__name__', fn)!r} cannot be ({err})"
                        ) from None
