"""The target-class score of a Keras classifier on many perturbed inputs, in batches.

One compiled call per batch of perturbed inputs (issue 25): the perturbation metrics build
their perturbed copies batch by batch and hand each batch to :class:`ClassScores`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from dance_tf.errors import InputError
from dance_tf.metrics import metric_inputs as mi

#: model → {input shape: (logits model, compiled forward)}: metrics called one after the
#: other on the same model share one traced graph
_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled_logits(model, input_shape: tuple[int, ...]):
    """The logits model of ``model`` and its compiled float64 forward pass (cached)."""
    from dance_tf.model_contract import logits_model

    per_model = _FORWARD.setdefault(model, {})
    if input_shape not in per_model:
        logits, _ = logits_model(model, input_shape)
        per_model[input_shape] = (logits, tf.function(
            lambda x: tf.cast(logits(x, training=False), tf.float64), reduce_retracing=True))
    return per_model[input_shape]


class ClassScores:
    """Score of class ``target`` for a batch of inputs: softmax probability or logit.

    A model that ends in a softmax is first cut before it
    (``dance_tf.model_contract.logits_model``), so the probability is softmax(logits)_c
    computed once, in float64, and the logit is the pre-softmax score. ``calls`` counts the
    model calls made. The compiled forward pass is cached per model and input shape
    (weakly: it goes with the model).
    """

    def __init__(self, model, input_shape: tuple[int, ...], output: str = "probability"):
        self.output = mi.output_kind(output)
        self.model, self._forward = compiled_logits(model, tuple(input_shape))
        self.calls = 0

    def __call__(self, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """inputs (B, *X) float32, targets (B,) int → (B,) float64 scores (one model call)."""
        logits = self._forward(tf.constant(inputs, tf.float32)).numpy()
        self.calls += 1
        if logits.ndim != 2:
            raise InputError(f"model: expected (B, classes) outputs, got shape {logits.shape}")
        if np.any(targets >= logits.shape[1]):
            raise InputError(f"targets: class index {int(targets.max())} out of range for "
                             f"a model with {logits.shape[1]} outputs")
        if self.output == "probability":
            logits = logits - logits.max(axis=1, keepdims=True)
            logits = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        out = logits[np.arange(len(targets)), targets]
        if not np.all(np.isfinite(out)):
            raise InputError("model: non-finite outputs on the perturbed inputs")
        return out


def score_rows(scores: ClassScores, rows: int, make: Callable[[np.ndarray], tuple],
               batch_size: int) -> np.ndarray:
    """Score ``rows`` perturbed inputs, ``batch_size`` per model call.

    make(indices) → (inputs (B, *X), targets (B,)) builds the perturbed inputs of the row
    indices it is given. Returns (rows,) float64.
    """
    out = np.empty(rows, dtype=np.float64)
    for start in range(0, rows, batch_size):
        idx = np.arange(start, min(rows, start + batch_size))
        inputs, t = make(idx)
        out[idx] = scores(np.asarray(inputs, np.float32), t)
    return out
