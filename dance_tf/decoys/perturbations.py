"""Perturbations (§3.3, §4.3): how each mask's region changes before the base method runs.

A strategy takes a batch of ``Items`` — masks of one input or of several — and returns
the perturbed inputs (k, *S) with per-item diagnostics (``PER_ITEM``): ``Decoys`` solves
and certifies Eq. 2 (``dance_tf.decoys.solve``); ``Constant`` and ``Noise`` are the ablations of
§4.3 (``dance_tf.decoys.ablations``). ``build`` picks one from an explainer's settings.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from dance_tf.decoys import ablations
from dance_tf.decoys.solve import optimise_items

#: per-item diagnostics every strategy returns, with their dtypes
PER_ITEM = {"max_deviation": tf.float32, "certified": tf.bool, "steps": tf.int32,
            "objective": tf.float32, "pinned": tf.bool, "against": tf.float32}


class Items(NamedTuple):
    """k items, each a mask of one input. x, lo, hi, constant: each item's input, legal
    range and ablation constant, (k, *S) or (1, *S) when shared; masks (k, *S) 0/1;
    signs (k,) ±1; seeds (k, 2) int32; epsilon (k,) L∞ bound at ℓ; ref, ref_loop: F_ℓ of
    each item's input, (k, ...) or (1, ...) (ref_loop: the solver's F_ℓ, or None)."""

    x: tf.Tensor
    lo: tf.Tensor
    hi: tf.Tensor
    constant: tf.Tensor
    masks: tf.Tensor
    signs: tf.Tensor
    seeds: tf.Tensor
    epsilon: tf.Tensor
    ref: tf.Tensor
    ref_loop: tf.Tensor | None


class Decoys:
    """Decoys (§3.3 Eq. 2): optimised inside each mask, certified at layer ℓ; one per mask
    and direction s = ±1."""

    name, per_mask = "decoys", 2

    def __init__(self, f_l, settings, f_loop=None, crop=None):
        self.f_l, self.settings, self.crop = f_l, settings, crop
        self.f_loop = None if f_loop is f_l else f_loop   # a reduced-precision copy

    def reference(self, xs: tf.Tensor) -> tf.Tensor | None:
        """The solver's F_ℓ(xs) as float32 (once per input), or None (it is F_ℓ)."""
        if self.f_loop is None:
            return None
        return tf.cast(self.f_loop(xs, training=False), tf.float32)

    def __call__(self, items: Items) -> dict:
        out = optimise_items(self.f_l, items.x, items.masks, items.signs, items.lo,
                             items.hi, items.epsilon, items.seeds, self.settings,
                             self.f_loop, items.ref, items.ref_loop, self.crop)
        out["inputs"] = out["decoys"]
        return out


class Constant:
    """The constant ablation (§4.3): the mask's region set to a constant; one per mask."""

    name, per_mask = "constant", 1

    def __init__(self, f_l):
        self.f_l = f_l

    def reference(self, xs: tf.Tensor) -> None:
        return None

    def perturb(self, items: Items) -> tf.Tensor:
        return ablations.constant_inputs(items.x, items.masks, items.constant)

    def __call__(self, items: Items) -> dict:
        inputs = self.perturb(items)
        k = tf.shape(inputs)[0]
        diff = tf.abs(self.f_l(inputs, training=False) - items.ref)
        return {"inputs": inputs,
                "max_deviation": tf.reduce_max(tf.reshape(diff, [k, -1]), axis=1),
                "certified": tf.zeros([k], tf.bool), "steps": tf.zeros([k], tf.int32),
                "objective": tf.zeros([k]), "pinned": tf.zeros([k], tf.bool),
                "against": tf.zeros([k])}


class Noise(Constant):
    """The noise ablation (§4.3): masked Gaussian noise, σ = level × (x_max − x_min),
    clipped to the legal range; two draws per mask."""

    name, per_mask = "noise", 2

    def __init__(self, f_l, level: float):
        super().__init__(f_l)
        self.level = float(level)

    def perturb(self, items: Items) -> tf.Tensor:
        return ablations.noise_inputs(items.x, items.masks, items.lo, items.hi, self.level,
                                      items.seeds)


def build(name: str, f_l, settings, f_loop=None, crop=None, noise_level: float = 0.1):
    """The strategy called ``name`` (``ablations.PERTURBATIONS``) for layer-ℓ model f_l."""
    if name == "decoys":
        return Decoys(f_l, settings, f_loop, crop)
    if name == "constant":
        return Constant(f_l)
    if name == "noise":
        return Noise(f_l, noise_level)
    raise ValueError(f"perturbation: expected one of {ablations.PERTURBATIONS}, got {name!r}")
