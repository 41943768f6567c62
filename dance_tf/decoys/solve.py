"""Solving for decoys (§3.3 Eq. 2, S1.2, Proposition 1): the solver switch (the settings,
``DecoySettings``, are in ``settings.py``; the certificate in ``certificate.py``).

For each mask M and direction s ∈ {+1, −1} a decoy x̃ solves

    maximise ‖((x̃ − x)·s)⁺ ∘ M‖₁  s.t. ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε, x̃ = x outside M,
    x̃ ∈ [x_min, x_max],

for a whole batch of decoys of one input at once, inside one compiled graph. Two solvers:

* ``"line_search"`` (default, ``line_search.py``): one-sided decoys x̃ = x + s·δ,
  δ ≥ 0; a line search along the uniform masked direction s·M, then certified refinements.
  Its objective is never below the best uniform feasible shift x + a·s·M, and a decoy that
  is not pinned at the value range ends with its deviation at the bound. Forward passes of
  layers 1..ℓ only (plus one backward pass per refinement round).
* ``"adam"`` (``adam.py``): the paper's S1.2 schedule (Adam in tanh space, λ doubling,
  τ decay) with a one-sided random start.

A per-feature deviation bound |x̃ᵢ − xᵢ| ≤ bᵢ (Proposition 1) narrows [x_min, x_max] to
[max(x_min, x − b), min(x_max, x + b)] before either solver runs, so it holds by construction.
Every decoy is then **certified** (``certificate.py``): equal to x outside M, inside
[x_min, x_max] and ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε, recomputed with F_ℓ in float32 after the
solver; an uncertified decoy is replaced by x and reported.
"""

from __future__ import annotations

import tensorflow as tf

from dance_tf import crops
from dance_tf.decoys import adam, line_search
from dance_tf.decoys.certificate import certify, per_decoy
from dance_tf.decoys.settings import DecoySettings

#: share of ε a reduced-precision loop aims at: bfloat16 keeps 8 bits of mantissa, so F_ℓ
#: moves by ~0.4% of max|F_ℓ| ≈ 8% of the default ε (5% of max|F_ℓ|); 0.8 ε leaves twice that
LOW_PRECISION_MARGIN = 0.8

def optimise(f_l, x: tf.Tensor, masks: tf.Tensor, signs: tf.Tensor, lo: tf.Tensor,
             hi: tf.Tensor, epsilon: tf.Tensor, seeds: tf.Tensor, settings: DecoySettings,
             f_loop=None, ref: tf.Tensor | None = None,
             ref_loop: tf.Tensor | None = None, crop=None) -> dict[str, tf.Tensor]:
    """Solve and certify a batch of decoys of one input (graph-safe; call in ``tf.function``).

    x: (*S) input; masks: (k, *S) 0/1; signs: (k,) ±1; lo, hi: (*S) legal range, already
    narrowed by any deviation bound; epsilon: scalar L∞ bound at layer ℓ; seeds: (k, 2)
    int32 stateless seeds, one per decoy (so a decoy does not depend on its batch);
    f_loop: F_ℓ for the solver only (e.g. a bfloat16 copy, ``layers.loop_model``), which then
    aims at ``LOW_PRECISION_MARGIN`` · ε; the certificate always uses ``f_l`` (float32) with
    ε itself; ref: F_ℓ(x) (1, ...) and ref_loop: f_loop(x) as float32, if the caller has
    them already (one per input, not one per chunk); crop: a ``crops.CropPlan`` to run the
    line search's layer-ℓ evaluations on crops around each mask (exact; ``crops.py``).
    Returns ``decoys`` (k, *S) (x where uncertified), ``max_deviation`` (k,)
    ‖F_ℓ(x̃) − F_ℓ(x)‖∞ of the returned decoys, ``certified`` (k,) bool, ``steps`` (k,)
    solver steps (Adam steps; or 1 for the line search + refinement rounds that moved),
    ``objective`` (k,) ‖((x̃ − x)·s)⁺ ∘ M‖₁ of the returned decoys in x's units,
    ``pinned`` (k,) bool: every movable feature of the mask sits at its bound in direction
    s; ``against`` (k,) the share of the mask's movable features that moved against s
    (0 for ``line_search``).
    """
    ref = f_l(x[None], training=False) if ref is None else ref
    if f_loop is not None and ref_loop is None:
        ref_loop = tf.cast(f_loop(x[None], training=False), tf.float32)
    eps = tf.fill(tf.shape(signs), tf.cast(epsilon, tf.float32))
    return optimise_items(f_l, x[None], masks, signs, lo[None], hi[None], eps, seeds,
                          settings, f_loop, ref, ref_loop, crop)


def optimise_items(f_l, x: tf.Tensor, masks: tf.Tensor, signs: tf.Tensor, lo: tf.Tensor,
                   hi: tf.Tensor, epsilon: tf.Tensor, seeds: tf.Tensor,
                   settings: DecoySettings, f_loop=None, ref: tf.Tensor | None = None,
                   ref_loop: tf.Tensor | None = None, crop=None) -> dict[str, tf.Tensor]:
    """``optimise`` with every per-input quantity given per decoy, so that one batch holds
    the decoys of several inputs: x, lo, hi (k, *S) or (1, *S) (shared); epsilon (k,);
    ref, ref_loop: F_ℓ of each decoy's input, (k, ...) or (1, ...). Same returns."""
    movable = tf.cast(hi - lo > 0, tf.float32)
    m = masks * movable
    ref = f_l(x, training=False) if ref is None else ref
    cert_epsilon = epsilon
    if f_loop is None:
        ref_loop, f_loop = ref, f_l
    else:  # reduced precision: its rounding error must not eat the certificate
        epsilon = epsilon * LOW_PRECISION_MARGIN
        if ref_loop is None:
            ref_loop = tf.cast(f_loop(x, training=False), tf.float32)
    # static rank: keeps the batch size known (a chunk of one decoy stays (1, *S) in the loop)
    s = tf.reshape(signs, [-1] + [1] * (len(x.shape) - 1))

    def deviation(points):
        return tf.abs(tf.cast(f_loop(points, training=False), tf.float32) - ref_loop)

    if crop is not None and settings.solver == "line_search":
        deviation = crops.deviation_fn(x, masks, crop)
    if settings.solver == "adam":
        best, has_best, steps = adam.solve(deviation, x, m, s, lo, hi, epsilon, seeds,
                                                 settings)
    else:
        def dev_max(points):
            return per_decoy(deviation(points), tf.reduce_max)

        def dev_grad(points, eps):  # ∂/∂points of the squared excess over half the bound
            with tf.GradientTape() as tape:
                tape.watch(points)
                dev = deviation(points)
                near = tf.reshape(line_search.NEAR * eps,
                                  [-1] + [1] * (len(dev.shape) - 1))
                excess = tf.nn.relu(dev - near)
                pen = tf.reduce_sum(tf.square(excess))
            return tape.gradient(pen, points)

        best, steps = line_search.solve(dev_max, dev_grad, x, m, s, lo, hi, epsilon,
                                              settings)
        has_best = tf.ones(tf.shape(signs), tf.bool)  # x itself is feasible: t = 0
    out = certify(f_l, x, masks, best, has_best, lo, hi, cert_epsilon, ref, steps)
    signed = (out["decoys"] - x) * s  # movement in each decoy's own direction
    out["objective"] = per_decoy(tf.nn.relu(signed) * m, tf.reduce_sum)
    room = tf.where(s > 0, hi - out["decoys"], out["decoys"] - lo) * m
    out["pinned"] = per_decoy(room, tf.reduce_max) <= 0.0
    against = tf.cast(signed < 0, tf.float32) * m
    out["against"] = per_decoy(against, tf.reduce_sum) / tf.maximum(
        per_decoy(m, tf.reduce_sum), 1.0)
    return out
