"""Shared machinery of the explanation attacks (Ghorbani et al. 2017; §4.4 of the paper).

The saliency under attack is the per-pixel map S = H·W · a / Σ a with a = Σ_c |E(x)|
(Ghorbani et al.'s normalisation: S sums to H·W). An attack minimises a loss L(S) with
the iterative sign step

    x ← x₀ + clip(x − α·sign(∇ₓ L), −ε, ε),   then clipped to the legal range [lo, hi],

where ∇ₓ L is taken through a softplus copy of the model (``softplus.py``). After every
step the new input is judged on the real model: it must keep the predicted label of x₀,
and the best such iterate by L on the real model's map is returned (x₀ itself when no
iterate beats it). All iterations run as one ``tf.while_loop`` inside one ``tf.function``
compiled once per model, attack and saliency method; inputs are processed in batches.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from dance_tf.attacks.softplus import softplus_copy
from dance_tf.errors import InputError
from dance_tf.inputs import range_tolerance
from dance_tf.model_contract import logits_model
from dance_tf.saliency._core import compiled, logit_gradients
from dance_tf.saliency.registry import resolve_method

#: the authors' defaults (Ghorbani et al.'s code, used by the DANCE authors, S5):
#: ε = 8 and α = 0.5 on the 0–255 pixel scale, 300 iterations, k = 1000 of 224×224 pixels
EPSILON_255 = 8.0
ALPHA_255 = 0.5
ITERATIONS = 300
TOPK_FRACTION = 1000 / (224 * 224)
#: softplus sharpness of the surrogate. The authors used plain softplus (β = 1) on 0–255
#: inputs, whose pre-activations are large; on small nets with [0, 1] inputs β = 1 is far
#: from ReLU and the attacks barely move the real map (targeted attack, 12×12 net: +2%
#: region mass at β = 1–5, +40% at β = 20). β = 10 is our default; pass beta=1 to
#: reproduce the authors' surrogate.
BETA = 10.0

_LOGITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class AttackInfo(NamedTuple):
    """labels: (N,) predicted classes kept; loss_before / loss_after: (N,) attack loss on the
    real model's map at x₀ and at the returned input (lower is a stronger attack);
    success: (N,) the returned input differs from x₀ (an improving iterate was found)."""

    labels: np.ndarray
    loss_before: np.ndarray
    loss_after: np.ndarray
    success: np.ndarray


def pixel_saliency(maps: tf.Tensor) -> tf.Tensor:
    """(N, H, W, C) maps → S = H·W · Σ_c|map| / Σ_{h,w,c}|map|, (N, H, W) float32; an
    all-zero map (e.g. Grad-CAM after its ReLU) counts as uniform, S = 1 everywhere."""
    a = tf.reduce_sum(tf.abs(tf.cast(maps, tf.float32)), axis=-1)
    hw = tf.cast(tf.shape(a)[1] * tf.shape(a)[2], a.dtype)
    total = tf.reduce_sum(a, axis=[1, 2], keepdims=True)
    safe = tf.where(total > 0, total, tf.ones_like(total))
    return tf.where(total > 0, hw * a / safe, tf.ones_like(a))


def mass_center(sal: tf.Tensor) -> tf.Tensor:
    """Centre of mass (row, column) in pixels of normalised maps (N, H, W) → (N, 2)."""
    h, w = tf.shape(sal)[1], tf.shape(sal)[2]
    rows = tf.cast(tf.range(h), sal.dtype)[None, :, None]
    cols = tf.cast(tf.range(w), sal.dtype)[None, None, :]
    total = tf.reduce_sum(sal, axis=[1, 2])
    return tf.stack([tf.reduce_sum(sal * rows, axis=[1, 2]) / total,
                     tf.reduce_sum(sal * cols, axis=[1, 2]) / total], axis=1)


def _vanilla(model, x, targets):
    return logit_gradients(model, x, targets)


def saliency_fn(method, options: dict | None) -> tuple[object, Callable]:
    """(cache key, f(model, x, targets) → maps) for None (vanilla gradient), a registered
    method name, or a user callable; ``options`` are passed to the method."""
    opts = dict(options or {})
    if method is None:
        if opts:
            raise ValueError("method_options: the default vanilla gradient takes no options")
        return "gradient", _vanilla
    name, fn = resolve_method(method)
    # ids are safe keys: the cached graph's closure keeps these objects alive
    key = (name if isinstance(method, str) else id(method),
           tuple(sorted((k, _hashable(v)) for k, v in opts.items())))
    return key, lambda m, x, t: fn(m, x, t, **opts)


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return ("id", id(value))


class Kind(NamedTuple):
    """An attack: ``prepare(S₀, aux) → ref`` from the real model's original map, and
    ``loss(S, ref) → (N,)`` to be minimised."""

    name: str
    prepare: Callable
    loss: Callable


def _attack_graph(model, proxy, kind: Kind, sal: Callable):
    def run(x0, targets, labels, lo, hi, eps, alpha, iters, aux):
        sal0 = pixel_saliency(sal(model, x0, targets))
        ref = kind.prepare(sal0, aux)
        loss0 = kind.loss(sal0, ref)

        def body(i, x, best_x, best):
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(kind.loss(pixel_saliency(sal(proxy, x, targets)), ref))
            grad = tape.gradient(total, x)
            if grad is None:
                raise ValueError("method: the saliency map of the softplus copy does not "
                                 "depend differentiably on the input; it cannot be attacked")
            step = x - alpha * tf.sign(grad)
            x_new = tf.clip_by_value(x0 + tf.clip_by_value(step - x0, -eps, eps), lo, hi)
            keep = tf.equal(tf.argmax(model(x_new, training=False), axis=-1,
                                      output_type=tf.int32), labels)
            real = kind.loss(pixel_saliency(sal(model, x_new, targets)), ref)
            better = keep & (real < best)
            best_x = tf.where(better[:, None, None, None], x_new, best_x)
            return i + 1, x_new, best_x, tf.where(better, real, best)

        _, _, best_x, best = tf.while_loop(lambda i, *_: i < iters, body,
                                           (tf.constant(0), x0, x0, loss0),
                                           parallel_iterations=1)
        return best_x, loss0, best

    return run


def _logits(model, input_shape):
    """The model without a final softmax (saliency is taken on logits, §2), cached."""
    per_model = _LOGITS.setdefault(model, {})
    key = tuple(input_shape)
    if key not in per_model:
        per_model[key] = logits_model(model, key)[0]
    return per_model[key]


def _broadcast_range(value_range, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if value_range is None:
        lo, hi = x.min(), x.max()
    else:
        lo, hi = value_range
    lo = np.broadcast_to(np.asarray(lo, np.float32), x.shape[1:]).astype(np.float32)
    hi = np.broadcast_to(np.asarray(hi, np.float32), x.shape[1:]).astype(np.float32)
    if np.any(hi <= lo):
        raise InputError("value_range: expected lo < hi everywhere")
    tol = range_tolerance(lo, hi)   # the explainer's tolerance (dance_tf.inputs)
    if np.any(x < lo - tol) or np.any(x > hi + tol):
        raise InputError("x: some values lie outside value_range")
    return lo, hi


def run_attack(model, x, targets, kind: Kind, aux_fn: Callable, *, epsilon, alpha,
               iterations, value_range, method, method_options, beta, batch_size,
               return_info):
    """Validate, batch and run one attack; ``aux_fn(slice) -> array`` gives the attack's
    extra input for a batch of inputs. See the public attack functions."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x: expected images (N, H, W, C), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: contains NaN or Inf")
    if int(iterations) < 0:
        raise ValueError(f"iterations: expected an integer ≥ 0, got {iterations}")
    lo, hi = _broadcast_range(value_range, x)
    span = float(np.max(hi - lo))
    eps = EPSILON_255 / 255.0 * span if epsilon is None else float(epsilon)
    step = ALPHA_255 / 255.0 * span if alpha is None else float(alpha)
    if not (eps > 0 and step > 0):
        raise ValueError(f"epsilon and alpha: expected positive sizes, got {eps} and {step}")
    labels = np.concatenate([
        np.argmax(model(x[i:i + batch_size], training=False), axis=-1)
        for i in range(0, len(x), batch_size)]).astype(np.int32)
    t = labels if targets is None else np.broadcast_to(
        np.asarray(targets, dtype=np.int32), labels.shape)
    key, sal = saliency_fn(method, method_options)
    model = _logits(model, x.shape[1:])
    proxy = softplus_copy(model, beta)
    fn = compiled(model, ("attack", kind.name, key, float(beta)),
                  lambda: _attack_graph(model, proxy, kind, sal))
    outs, before, after = [], [], []
    for i in range(0, len(x), batch_size):
        sl = slice(i, i + batch_size)
        aux = aux_fn(sl)
        adv, l0, l1 = fn(tf.constant(x[sl]), tf.constant(t[sl]), tf.constant(labels[sl]),
                         tf.constant(lo), tf.constant(hi), tf.constant(eps, tf.float32),
                         tf.constant(step, tf.float32), tf.constant(int(iterations)),
                         tf.constant(aux))
        outs.append(adv.numpy())
        before.append(l0.numpy())
        after.append(l1.numpy())
    x_adv = np.concatenate(outs)
    if not return_info:
        return x_adv
    changed = np.any((x_adv != x).reshape(len(x), -1), axis=1)
    return x_adv, AttackInfo(labels, np.concatenate(before), np.concatenate(after), changed)
