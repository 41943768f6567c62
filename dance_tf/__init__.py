"""dance_tf: DANCE decoy-enhanced saliency maps (Lu, Guo, Xing, Noble, ICML 2021).

``dance_tf.explain(model, x)`` explains one input; ``dance_tf.Explainer`` is the reusable,
compiled-once explainer behind it; ``dance_tf.saliency`` holds the base methods,
``dance_tf.models`` the model registry, ``dance_tf.metrics`` the evaluation metrics.

The names below and the subpackages are imported on first use (PEP 562), so that
``import dance_tf.cli`` — the ``dance-tf`` command — parses its arguments before
TensorFlow is imported.
"""

__version__ = "0.2.0.dev0"

__all__ = ["BudgetError", "DanceError", "DecoyWarning", "Explainer", "Explanation",
           "ExportError", "InputError", "LayerError", "LayerWarning", "explain",
           "explain_tokens", "split_at", "value_range_from", "__version__"]

_LAZY = {"DecoyWarning", "Explainer", "Explanation", "explain"}
_CONTRACT = {"split_at": "tokens", "explain_tokens": "tokens",
             "LayerWarning": "layers", "value_range_from": "inputs"}
_ERRORS = {"DanceError", "InputError", "LayerError", "BudgetError", "ExportError"}
#: subpackages and modules reachable as attributes after ``import dance_tf``
_SUBMODULES = {"saliency", "models", "metrics", "options"}


def __getattr__(name: str):
    if name in _ERRORS:   # no TensorFlow import
        from dance_tf import errors

        return getattr(errors, name)
    if name in _CONTRACT:
        import importlib

        return getattr(importlib.import_module(f"dance_tf.{_CONTRACT[name]}"), name)
    if name in _LAZY:
        from dance_tf import explainer

        return getattr(explainer, name)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"dance_tf.{name}")
    raise AttributeError(f"module 'dance_tf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY | _ERRORS | _SUBMODULES | set(_CONTRACT))
