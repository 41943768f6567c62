"""The default decoy solver: a line search first, then certified refinements (§3.3 Eq. 2).

Eq. 2 asks, for a mask M and a direction s ∈ {+1, −1}, for the decoy x̃ that moves as far
as possible in direction s inside M while ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε. This solver keeps the
decoys **one-sided**: x̃ = x + s·δ with δ ≥ 0 (the x̃⁺ / x̃⁻ of Theorem 1), so no feature ever
moves against s and the objective ‖((x̃ − x)·s)⁺ ∘ M‖₁ = ‖δ ∘ M‖₁ grows with every step.

1. **Line search** along the uniform masked direction s·M: x(a) = clip(x + a·s·M) for the
   largest a whose deviation stays within ε. One probe estimates the slope of the deviation,
   a geometric grid of ``line_grid`` points around ε / slope (plus the far end, where every
   feature of the mask sits at its bound) brackets the largest feasible a, and
   ``line_bisect`` bisections close the bracket. The uniform feasible shift is therefore a
   floor of every decoy's objective, by construction.
2. **Refinement** (``refine_steps`` rounds): the gradient of the deviations that are near the
   bound tells which features of the mask push them up; the next direction keeps s but
   scales each feature down by exp(−cost / mean cost) (cost = s·∂penalty/∂x̃ > 0), and a line
   search from the current decoy along it moves as far as the bound allows. Every round
   starts and ends at a feasible point and only adds movement in direction s.

Every evaluation runs layers 1..ℓ only (``dev_fn``), for all decoys of a chunk as one batch;
no Python loop touches a decoy. A decoy whose whole mask reaches the value range is
*pinned*; any other ends with its deviation within a bisection's resolution (2^−line_bisect
of its bracket) of the bound.
"""

from __future__ import annotations

import tensorflow as tf

#: share of ε the search aims at: the certificate, recomputed in a separate batch, must not
#: fail on the last float32 bit of a deviation found exactly at ε
SEARCH_MARGIN = 1.0 - 1e-5
#: the probe's step, as a share of the furthest a decoy can go
_PROBE = 1e-3
#: smallest direction weight in a refinement (keeps the line's far end finite)
_MIN_WEIGHT = 1e-3
#: deviations above this share of ε count as "near the bound" in a refinement
NEAR = 0.5


def _per(v: tf.Tensor, rank: int) -> tf.Tensor:
    """(k,) → (k, 1, ..., 1) broadcastable against (k, *S) of rank ``rank``."""
    return tf.reshape(v, [-1] + [1] * (rank - 1))


def _reduce(t: tf.Tensor, op) -> tf.Tensor:
    return op(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def largest_feasible(dev_fn, base, direction, lo, hi, t_max, epsilon, guess, grid: int,
                     bisect: int):
    """Largest t in [0, t_max] (per decoy) with dev_fn(clip(base + t·direction)) ≤ ε.

    base, direction: (k, *S); lo, hi: (k, *S) or (1, *S); t_max: (k,) the step beyond
    which the clipped point no longer changes; epsilon: (k,) or scalar; guess: (k,) centre
    of the geometric grid guess·2^(j − grid/2), j = 0..grid−1, followed by t_max itself.
    dev_fn(points (k, *S)) → (k,) L∞ deviation at layer ℓ. ``base`` must be feasible (t = 0 is the
    fallback). The grid brackets the largest feasible point (feasibility need not be
    monotone in t: the bracket is the last feasible grid point and the next one), and
    ``bisect`` halvings close it. Returns t (k,). Cost: grid + 1 + bisect batched forward
    passes of layers 1..ℓ.
    """
    rank = len(base.shape)

    def point(t):
        return tf.clip_by_value(base + _per(t, rank) * direction, lo, hi)

    half = grid // 2
    big = 2.0 * t_max + 1.0  # "no infeasible grid point above the last feasible one"

    def grid_step(j, lo_t, hi_t):
        scale = tf.pow(2.0, tf.cast(j - half, tf.float32))
        t = tf.where(j >= grid, t_max, tf.minimum(guess * scale, t_max))  # increasing in j
        ok = dev_fn(point(t)) <= epsilon
        lo_t = tf.where(ok, t, lo_t)
        hi_t = tf.where(ok, big, tf.where(t > lo_t, tf.minimum(hi_t, t), hi_t))
        return j + 1, lo_t, hi_t

    _, t_lo, t_hi = tf.while_loop(lambda j, *_: j <= grid, grid_step,
                                  (tf.constant(0), tf.zeros_like(t_max), big),
                                  parallel_iterations=1)
    t_hi = tf.where(t_hi >= big, t_lo, t_hi)  # nothing infeasible above: nothing to close

    def bisect_step(i, lo_t, hi_t):
        mid = 0.5 * (lo_t + hi_t)
        ok = dev_fn(point(mid)) <= epsilon
        return i + 1, tf.where(ok, mid, lo_t), tf.where(ok, hi_t, mid)

    _, t_lo, _ = tf.while_loop(lambda i, *_: i < bisect, bisect_step,
                               (tf.constant(0), t_lo, t_hi), parallel_iterations=1)
    return t_lo


def slope_guess(dev_fn, base, direction, lo, hi, t_max, epsilon):
    """Where a line from a point with zero deviation should reach ε if the deviation grew
    linearly: ε / slope, the slope probed at ``_PROBE``·t_max (one forward pass)."""
    rank = len(base.shape)
    h = t_max * _PROBE
    probe = tf.clip_by_value(base + _per(h, rank) * direction, lo, hi)
    slope = dev_fn(probe) / tf.where(h > 0, h, tf.ones_like(h))
    guess = tf.math.divide_no_nan(epsilon, slope)
    guess = tf.where(slope > 0, guess, t_max)
    return tf.clip_by_value(guess, 1e-30, tf.maximum(t_max, 1e-30))


def solve(dev_fn, dev_grad_fn, x, m, s, lo, hi, epsilon, settings):
    """Decoys by line search and refinement (see the module docstring).

    x, lo, hi: (k, *S), or (1, *S) when every decoy shares its input; m: (k, *S) 0/1 masks
    of movable features; s: (k, 1, ..., 1) ±1; epsilon: (k,) or scalar (already including
    any precision margin); dev_fn(points) → (k,) L∞
    deviation; dev_grad_fn(points, epsilon) → ∂ penalty/∂points (k, *S) for the deviations
    above ``NEAR``·ε. Returns (decoys (k, *S), steps (k,) int32: 1 for the line search +
    the refinement rounds that moved the decoy).
    """
    rank = len(m.shape)
    eps = epsilon * SEARCH_MARGIN
    room = tf.where(s > 0, hi - x, x - lo) * m
    t_max = _reduce(room, tf.reduce_max)
    base = tf.broadcast_to(x, tf.shape(m))
    guess = slope_guess(dev_fn, base, s * m, lo, hi, t_max, eps)
    t = largest_feasible(dev_fn, base, s * m, lo, hi, t_max, eps, guess, settings.line_grid,
                         settings.line_bisect)
    decoys = tf.clip_by_value(base + _per(t, rank) * s * m, lo, hi)

    def refine(r, decoys, rounds):
        left = tf.where(s > 0, hi - decoys, decoys - lo) * m  # room still free
        free = tf.cast(left > 0, tf.float32)
        cost = tf.nn.relu(s * dev_grad_fn(decoys, eps)) * free
        mean_cost = _reduce(cost, tf.reduce_sum) / tf.maximum(_reduce(free, tf.reduce_sum), 1.0)
        scale = tf.where(mean_cost > 0, mean_cost, tf.ones_like(mean_cost))
        weight = tf.maximum(tf.exp(-cost / _per(scale, rank)), _MIN_WEIGHT) * free
        step_max = _reduce(tf.math.divide_no_nan(left, weight), tf.reduce_max)
        # at the bound already: a grid down from the far end, not a slope guess
        far = step_max * 2.0 ** -(settings.refine_grid - settings.refine_grid // 2)
        t = largest_feasible(dev_fn, decoys, s * weight, lo, hi, step_max, eps, far,
                             settings.refine_grid, settings.line_bisect)
        moved = t > 0
        decoys = tf.clip_by_value(decoys + _per(t, rank) * s * weight, lo, hi)
        return r + 1, decoys, rounds + tf.cast(moved, tf.int32)

    _, decoys, rounds = tf.while_loop(
        lambda r, *_: r < settings.refine_steps, refine,
        (tf.constant(0), decoys, tf.ones(tf.shape(t), tf.int32)), parallel_iterations=1)
    return decoys, rounds
