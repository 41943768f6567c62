"""Top-K binarisation of saliency maps (§4.1, S11)."""

from __future__ import annotations

import numpy as np


def top_count(k, total: int) -> int:
    """How many of ``total`` features a top-k keeps: k an int count in [1, total], or a
    float fraction in (0, 1] (round(k · total), at least 1)."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.number)):
        raise ValueError(f"k: expected a count or a fraction, got {k!r}")
    if isinstance(k, (int, np.integer)):
        if not 1 <= k <= total:
            raise ValueError(f"k: expected a count in [1, {total}], got {k}")
        return int(k)
    if not 0 < float(k) <= 1:
        raise ValueError(f"k: expected a count ≥ 1 or a fraction in (0, 1], got {k}")
    return max(1, int(round(float(k) * total)))


def topk_binarize(saliency, k: float = 0.2) -> np.ndarray:
    """Keep the top ``k`` fraction of features of each map as 1, the rest 0.

    saliency: (N, *F) feature scores (already reduced to one score per feature, e.g. an
    (H, W) map per image or one score per word); k: fraction in (0, 1] (10/20/40% in the
    paper). Exactly round(k · #features) features (at least 1) are kept per map; ties
    are broken by position (stable sort), so the count never varies. Returns float32 0/1
    of the same shape.
    """
    if not 0 < k <= 1:
        raise ValueError(f"k: expected a fraction in (0, 1], got {k}")
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim < 2:
        raise ValueError(f"saliency: expected a batch (N, ...), got shape {s.shape}")
    flat = s.reshape(len(s), -1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("saliency: contains NaN or Inf")
    keep = max(1, int(round(k * flat.shape[1])))
    order = np.argsort(-flat, axis=1, kind="stable")[:, :keep]
    out = np.zeros_like(flat, dtype=np.float32)
    np.put_along_axis(out, order, 1.0, axis=1)
    return out.reshape(s.shape)
