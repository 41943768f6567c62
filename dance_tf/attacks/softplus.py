"""Softplus surrogate of a ReLU network for explanation attacks (Ghorbani et al. 2017, §4.4).

A ReLU network's input gradient is piecewise constant, so the gradient of a
gradient-based saliency map with respect to the input is zero almost everywhere. The
attacks therefore differentiate the saliency of a copy of the model in which every ReLU is
replaced by softplus_β(z) = softplus(β·z)/β (→ ReLU as β → ∞), and judge each attacked
input on the real model.
"""

from __future__ import annotations

import weakref

import keras
from keras import layers as kl

_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@keras.saving.register_keras_serializable(package="dance_tf")
class BetaSoftplus(kl.Layer):
    """softplus(β·z)/β, a smooth stand-in for ReLU (elementwise, any shape)."""

    def __init__(self, beta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)

    def call(self, inputs):
        return keras.ops.softplus(self.beta * inputs) / self.beta

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package="dance_tf")
class BetaSoftplusCapped(kl.Layer):
    """softplus_β(z) − softplus_β(z − cap), a smooth stand-in for ReLU capped at ``cap``
    (ReLU6: cap = 6); → min(max(z, 0), cap) as β → ∞."""

    def __init__(self, beta: float = 1.0, cap: float = 6.0, **kwargs):
        super().__init__(**kwargs)
        self.beta, self.cap = float(beta), float(cap)

    def call(self, inputs):
        b = self.beta
        return (keras.ops.softplus(b * inputs) - keras.ops.softplus(b * (inputs - self.cap))) / b

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "cap": self.cap}


def _capped_relu_layer(layer) -> bool:
    return (isinstance(layer, kl.ReLU) and layer.max_value is not None
            and float(layer.negative_slope) == 0.0 and float(layer.threshold) == 0.0)


def _is_relu_fn(fn) -> bool:
    return getattr(fn, "__name__", "") == "relu"


def _plain_relu_layer(layer) -> bool:
    return (isinstance(layer, kl.ReLU) and layer.max_value is None
            and float(layer.negative_slope) == 0.0 and float(layer.threshold) == 0.0)


def _build_copy(model, beta: float):
    replaced: list[tuple[object, object]] = []

    def act(z):
        return keras.ops.softplus(beta * z) / beta

    def clone_layer(layer):
        if _plain_relu_layer(layer):
            return BetaSoftplus(beta, name=layer.name)  # same name: layers stay findable
        if _capped_relu_layer(layer):
            return BetaSoftplusCapped(beta, float(layer.max_value), name=layer.name)
        if _is_relu_fn(getattr(layer, "activation", None)):
            twin = type(layer).from_config(layer.get_config())
            twin.activation = act
            replaced.append((twin, layer))
            return twin
        return layer  # shared: same layer object, same weights

    copy = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    return copy, replaced


def sync_weights(replaced) -> None:
    """Copy the current weights of the original layers into their softplus twins."""
    for twin, layer in replaced:
        for v_new, v_old in zip(twin.weights, layer.weights):
            v_new.assign(v_old)


def softplus_copy(model, beta: float = 1.0):
    """The model with every ReLU (``ReLU()`` layers with default arguments, and layers
    built with ``activation='relu'``) replaced by softplus_β, and every capped ReLU
    (``ReLU(max_value=c)``, e.g. ReLU6 in EfficientNet-Lite) by softplus_β(z) −
    softplus_β(z − c); Sequential, functional and nested models built from standard
    Keras layers.

    Layers without a ReLU are shared with ``model`` (same objects, same variables); layers
    whose activation changes are fresh twins whose weights are copied from ``model`` on
    every call (so a retrained model is followed). Leaky ReLUs are kept as they are (their
    second derivative is zero too: an attack through them cannot move; ``evaluate`` flags
    an attack that left its input unchanged). The copy is cached per model and β.
    Returns a ``keras.Model``.
    """
    if not beta > 0:
        raise ValueError(f"beta: expected a positive sharpness, got {beta}")
    per_model = _COPIES.setdefault(model, {})
    if float(beta) not in per_model:
        per_model[float(beta)] = _build_copy(model, float(beta))
    copy, replaced = per_model[float(beta)]
    sync_weights(replaced)
    return copy
