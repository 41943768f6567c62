"""Base saliency methods E(x; F^c) (§2, §4.1, S9).

Every method has the signature ``f(model, inputs, targets, **options) -> maps``: a batch
``inputs`` (N, ...), integer ``targets`` (N,), maps shaped like ``inputs``, computed on the
target class logit (pre-softmax). Numpy in gives numpy out; tensors in give tensors out, so
the same functions run inside the explainer's compiled graph. Any user callable with that
signature is a base method too.

``register(name, fn)`` makes a user's method known by name (to ``get`` and
``Explainer(method=name)``). ``get(name, **options)`` binds a method's own options into a
``BaseMethod`` object, which ``Explainer(model, base=...)`` wraps with decoys;
``numpy_method`` marks a user callable that must run eagerly.
"""

from dance_tf.saliency.base import BaseMethod, get, numpy_method
from dance_tf.saliency.gradient import gradient
from dance_tf.saliency.integrated_gradients import integrated_gradients
from dance_tf.saliency.registry import METHODS, register, resolve_method
from dance_tf.saliency.smoothgrad import smoothgrad

__all__ = ["gradient", "integrated_gradients", "smoothgrad", "METHODS", "resolve_method",
           "BaseMethod", "get", "numpy_method", "register"]
