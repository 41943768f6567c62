"""How much an attack moved a saliency map (Ghorbani et al. 2017; §4.4 of the paper).

Top-k intersection, Spearman rank correlation and the centre-of-mass shift in pixels,
computed between the map of an input and the map of its attacked copy. Maps shaped like an
image batch (N, H, W, C) are first reduced to pixel scores Σ_c |map| (N, H, W), the
saliency the attacks work on; (N, H, W) maps are used as |map|.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from dance_tf.metrics.topk import top_count


def pixel_scores(saliency) -> np.ndarray:
    """(N, H, W, C) → Σ_c |map| (N, H, W); (N, H, W) → |map|. float64."""
    s = np.abs(np.asarray(saliency, dtype=np.float64))
    if s.ndim == 4:
        return s.sum(axis=-1)
    if s.ndim == 3:
        return s
    raise ValueError(f"saliency: expected (N, H, W) or (N, H, W, C) maps, got shape {s.shape}")


def _top_sets(flat: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-flat, axis=1, kind="stable")[:, :k]


def topk_intersection(sal_a, sal_b, k: int | float = 0.1) -> np.ndarray:
    """|top-k(a) ∩ top-k(b)| / k per input, in [0, 1] (1 = same top-k pixels).

    sal_a, sal_b: maps of the original and attacked inputs (see module doc); k: a pixel
    count (int ≥ 1) or a fraction of the pixels (float in (0, 1]). Ties are broken by
    position. Returns (N,) float64.
    """
    a = pixel_scores(sal_a).reshape(len(sal_a), -1)
    b = pixel_scores(sal_b).reshape(len(sal_b), -1)
    if a.shape != b.shape:
        raise ValueError(f"sal_a and sal_b: expected equal shapes, got {a.shape} and {b.shape}")
    kk = top_count(k, a.shape[1])
    ta, tb = _top_sets(a, kk), _top_sets(b, kk)
    return np.array([np.intersect1d(p, q).size / kk for p, q in zip(ta, tb)])


def rank_correlation(sal_a, sal_b) -> np.ndarray:
    """Spearman rank correlation of the pixel scores of two maps per input, in [−1, 1].

    Returns (N,) float64 (NaN for a constant map).
    """
    a = pixel_scores(sal_a).reshape(len(sal_a), -1)
    b = pixel_scores(sal_b).reshape(len(sal_b), -1)
    out = []
    for p, q in zip(a, b):
        if np.all(p == p[0]) or np.all(q == q[0]):
            out.append(np.nan)
        else:
            out.append(stats.spearmanr(p, q)[0])
    return np.asarray(out, dtype=np.float64)


def mass_center(saliency) -> np.ndarray:
    """Centre of mass (row, column) in pixels of the pixel scores, per input: (N, 2) (NaN
    for an all-zero map)."""
    s = pixel_scores(saliency)
    _, h, w = s.shape
    total = s.sum(axis=(1, 2))
    rows = (s.sum(axis=2) * np.arange(h)).sum(axis=1)
    cols = (s.sum(axis=1) * np.arange(w)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([rows / total, cols / total], axis=1)


def center_shift(sal_a, sal_b) -> np.ndarray:
    """Euclidean distance in pixels between the two maps' centres of mass: (N,) float64."""
    return np.linalg.norm(mass_center(sal_a) - mass_center(sal_b), axis=1)


def attack_report(sal_x, sal_adv, k: int | float = 0.1) -> dict[str, np.ndarray]:
    """The three per-input measures of Ghorbani et al. between original and attacked maps.

    Returns {"topk_intersection", "rank_correlation", "center_shift"} → (N,) arrays.
    """
    return {
        "topk_intersection": topk_intersection(sal_x, sal_adv, k),
        "rank_correlation": rank_correlation(sal_x, sal_adv),
        "center_shift": center_shift(sal_x, sal_adv),
    }
