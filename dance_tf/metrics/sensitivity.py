"""Saliency sensitivity SS (Alvarez-Melis & Jaakkola 2018; Eq. 7 of the paper, §4.4)."""

from __future__ import annotations

import numpy as np

from dance_tf.metrics.topk import topk_binarize


def sensitivity(sal_x, sal_adv, x, x_adv, k: float | None = None) -> np.ndarray:
    """SS = ‖E(x) − E(x̂)‖₂ / ‖x − x̂‖₂ per input (lower is more robust, Eq. 7).

    sal_x, sal_adv: (N, ...) saliency maps of the original and the attacked inputs, the
    same shape (per-feature maps such as (N, H, W), or maps shaped like the inputs);
    x, x_adv: (N, ...) the inputs, in the units the model sees (for mean-subtracted images
    that is the 0–255 scale). k: None compares the raw maps; a fraction in (0, 1] first
    binarises both maps with ``topk_binarize`` (the paper's Figs. 4, S10, S11 compare
    top-K maps, K = 20% / 10% / 40%). Norms run over all non-batch axes. Returns (N,)
    float64; an input equal to its attacked copy gives NaN (0/0) or inf.
    """
    a = np.asarray(sal_x, dtype=np.float64)
    b = np.asarray(sal_adv, dtype=np.float64)
    u = np.asarray(x, dtype=np.float64)
    v = np.asarray(x_adv, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"sal_x and sal_adv: expected equal shapes, got {a.shape} and {b.shape}")
    if u.shape != v.shape:
        raise ValueError(f"x and x_adv: expected equal shapes, got {u.shape} and {v.shape}")
    if a.ndim < 2 or len(a) != len(u):
        raise ValueError(f"sal_x: expected a batch (N, ...) with N = {len(u)}, got {a.shape}")
    if k is not None:
        a = topk_binarize(a, k).astype(np.float64)
        b = topk_binarize(b, k).astype(np.float64)
    num = np.linalg.norm((a - b).reshape(len(a), -1), axis=1)
    den = np.linalg.norm((u - v).reshape(len(u), -1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den
