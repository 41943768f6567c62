"""Top-k attack (Ghorbani et al. 2017; §4.4 of the paper): move saliency off the top-k pixels."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.attacks._common import BETA, ITERATIONS, TOPK_FRACTION, Kind, run_attack
from dance_tf.metrics.topk import top_count


def _prepare(sal0, k):
    flat = tf.reshape(sal0, [tf.shape(sal0)[0], -1])
    idx = tf.math.top_k(flat, k=k).indices
    mask = tf.reduce_max(tf.one_hot(idx, tf.shape(flat)[1], dtype=sal0.dtype), axis=1)
    return tf.reshape(mask, tf.shape(sal0))


def _loss(sal, mask):
    return tf.reduce_sum(sal * mask, axis=[1, 2])


TOPK = Kind("topk", _prepare, _loss)


def topk_count(k, height: int, width: int) -> int:
    """Pixel count from k: an int count, a float fraction of H·W, or None for the authors'
    1000 of 224×224 pixels scaled to H×W (at least 1)."""
    total = height * width
    if k is None:
        return max(1, int(round(TOPK_FRACTION * total)))
    return top_count(k, total)


def topk_attack(model, x, targets=None, epsilon=None, alpha=None, iterations=ITERATIONS,
                k=None, value_range=None, method=None, method_options=None,
                beta: float = BETA, batch_size: int = 16, return_info: bool = False):
    """Top-k attack: lower the saliency mass on the original map's top-k pixels.

    Loss L = Σ_{p ∈ top-k(S(x₀))} S(x)_p on the normalised pixel saliency S (see
    ``dance_tf.attacks._common``); the top-k set comes from the real model's map of x₀.

    model: a Keras classifier returning logits; x: (N, H, W, C) float images; targets:
    (N,) classes whose saliency is attacked (default: the predicted classes); epsilon:
    L∞ budget in the input's units (default 8/255 of the value range's width, i.e. 8 on
    the 0–255 scale as in the authors' code); alpha: step size (default 0.5/255 of the
    width); iterations: sign steps (300 as the authors; a few tens suffice for small
    inputs); k: pixel count, fraction, or None for 1000/(224·224) of the pixels (the
    authors' code; the DANCE paper's text reports k = 5000 on ImageNet); value_range:
    (lo, hi) scalars or arrays broadcastable to one input, e.g. (−mean, 255 − mean) per
    channel (default: the batch's min and max); method: None (vanilla gradient), a
    registered base-method name or a callable f(model, x, targets, **method_options);
    beta: softplus sharpness of the surrogate (see ``_common.BETA``); batch_size: inputs
    attacked together.

    Returns the attacked inputs (N, H, W, C) float32, each with the predicted label of x₀
    kept (an input the attack could not improve is returned unchanged); with
    ``return_info`` also an ``AttackInfo``.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x: expected images (N, H, W, C), got shape {x.shape}")
    count = topk_count(k, x.shape[1], x.shape[2])
    return run_attack(model, x, targets, TOPK, lambda _: np.int32(count), epsilon=epsilon,
                      alpha=alpha, iterations=iterations, value_range=value_range,
                      method=method, method_options=method_options, beta=beta,
                      batch_size=batch_size, return_info=return_info)
