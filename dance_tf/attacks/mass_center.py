"""Mass-center attack (Ghorbani et al. 2017; §4.4 of the paper): move the map's centre."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.attacks._common import BETA, ITERATIONS, Kind, mass_center, run_attack


def _prepare(sal0, _):
    return mass_center(sal0)


def _loss(sal, center0):
    return -tf.reduce_sum(tf.square(mass_center(sal) - center0), axis=1)


MASS_CENTER = Kind("mass_center", _prepare, _loss)


def mass_center_attack(model, x, targets=None, epsilon=None, alpha=None,
                       iterations=ITERATIONS, value_range=None, method=None,
                       method_options=None, beta: float = BETA, batch_size: int = 16,
                       return_info: bool = False):
    """Mass-center attack: push the saliency map's centre of mass away from the original.

    Loss L = −‖c(S(x)) − c(S(x₀))‖² with c the centre of mass (row, column) in pixels of
    the normalised pixel saliency S, c(S(x₀)) from the real model. Every argument and the
    return value are as in ``dance_tf.attacks.topk_attack``.
    """
    return run_attack(model, x, targets, MASS_CENTER, lambda _: np.float32(0.0),
                      epsilon=epsilon, alpha=alpha, iterations=iterations,
                      value_range=value_range, method=method, method_options=method_options,
                      beta=beta, batch_size=batch_size, return_info=return_info)
