"""The certificate of a decoy (§3.3 Eq. 2, Proposition 1): equal to x outside its mask,
inside [x_min, x_max] and ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε, recomputed with F_ℓ in float32 after
the solver; an uncertified decoy is replaced by x and reported."""

from __future__ import annotations

import tensorflow as tf


def per_decoy(t: tf.Tensor, op) -> tf.Tensor:
    """``op`` (e.g. ``tf.reduce_max``) over every axis but the first: (k, ...) → (k,)."""
    return op(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def certify(f_l, x, masks, decoys, candidate, lo, hi, epsilon, ref, steps
            ) -> dict[str, tf.Tensor]:
    """Recompute each decoy's certificate; replace the uncertified ones by x.

    x, lo, hi: (k, *S) or (1, *S), each decoy's input and range; epsilon: (k,) or scalar.

    Checks: x̃ == x exactly where the mask is 0; lo ≤ x̃ ≤ hi; ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε
    (0 for x̃ = x, whatever the last bits of a batched F_ℓ say).
    """
    change = tf.abs(decoys - x)
    outside_equal = per_decoy(tf.where(masks > 0, tf.zeros_like(decoys), change),
                               tf.reduce_max) == 0.0
    in_range = per_decoy(tf.cast((decoys < lo) | (decoys > hi), tf.float32),
                          tf.reduce_max) == 0.0
    dev = per_decoy(tf.abs(f_l(decoys, training=False) - ref), tf.reduce_max)
    # x itself deviates by 0 (a batched F_ℓ can differ from F_ℓ(x) in the last bits)
    dev = tf.where(per_decoy(change, tf.reduce_max) == 0.0, tf.zeros_like(dev), dev)
    certified = candidate & outside_equal & in_range & (dev <= epsilon)
    bshape = tf.concat([[tf.shape(masks)[0]], tf.ones([tf.rank(x) - 1], tf.int32)], 0)
    final = tf.where(tf.reshape(certified, bshape), decoys,
                     tf.broadcast_to(x, tf.shape(decoys)))
    final_dev = tf.where(certified, dev, tf.zeros_like(dev))
    return {"decoys": final, "max_deviation": final_dev, "certified": certified,
            "steps": steps, "raw_deviation": dev}
