"""Name → base method table, and resolution of user callables."""

from __future__ import annotations

import importlib
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

#: the methods shipped with the package (METHODS may gain more at run time, e.g. the
#: study's output-gradient variants)
BUILT_IN: tuple[str, ...] = tuple(METHODS)

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
    if name not in METHODS:
        raise ValueError(f"method: unknown {method!r}; expected one of {sorted(METHODS)} "
                         "or a callable f(model, inputs, targets) -> maps")
    module, func = METHODS[name].split(":")
    return name, getattr(importlib.import_module(module), func)
