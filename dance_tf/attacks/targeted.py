"""Targeted attack (Ghorbani et al. 2017; §4.4 of the paper): pull saliency into a region."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from dance_tf.attacks._common import BETA, ITERATIONS, Kind, run_attack


def _prepare(sal0, region):
    return tf.broadcast_to(tf.cast(region, sal0.dtype), tf.shape(sal0))


def _loss(sal, region):
    return -tf.reduce_sum(sal * region, axis=[1, 2])


TARGETED = Kind("targeted", _prepare, _loss)


def default_region(height: int, width: int) -> np.ndarray:
    """The paper's bottom-right 4×4 pixel region (§4.4), shrunk to at most a quarter of
    each side for small inputs (2×2 on 8×8); float32 (H, W) 0/1."""
    side_h = max(1, min(4, height // 4))
    side_w = max(1, min(4, width // 4))
    region = np.zeros((height, width), dtype=np.float32)
    region[height - side_h:, width - side_w:] = 1.0
    return region


def targeted_attack(model, x, targets=None, epsilon=None, alpha=None, iterations=ITERATIONS,
                    region=None, value_range=None, method=None, method_options=None,
                    beta: float = BETA, batch_size: int = 16, return_info: bool = False):
    """Targeted attack: raise the saliency mass inside a given region.

    Loss L = −Σ_{p ∈ R} S(x)_p on the normalised pixel saliency S. region: a binary
    (H, W) mask shared by all inputs or (N, H, W) one per input; default the bottom-right
    4×4 pixels (``default_region``). Every other argument and the return value are as in
    ``dance_tf.attacks.topk_attack``.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x: expected images (N, H, W, C), got shape {x.shape}")
    n, h, w = x.shape[:3]
    r = default_region(h, w) if region is None else np.asarray(region, dtype=np.float32)
    if r.shape not in ((h, w), (n, h, w)):
        raise ValueError(f"region: expected shape ({h}, {w}) or ({n}, {h}, {w}), got {r.shape}")
    if not np.any(r):
        raise ValueError("region: expected at least one pixel")
    full = np.broadcast_to(r, (n, h, w))
    return run_attack(model, x, targets, TARGETED, lambda sl: np.ascontiguousarray(full[sl]),
                      epsilon=epsilon, alpha=alpha, iterations=iterations,
                      value_range=value_range, method=method, method_options=method_options,
                      beta=beta, batch_size=batch_size, return_info=return_info)
