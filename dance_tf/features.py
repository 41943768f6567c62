"""Features of an input: which leading axes index them (``feature_axes``, ``input_kind``)
and a saliency map reduced to one score per feature (``feature_scores``, §4.2, §4.3.2).

Image maps (H, W, C) are reduced over channels to an (H, W) map; text maps (T, D) are
reduced over the embedding dimensions to one score per word (the paper takes the mean over
dimensions, §4.3.2); tabular maps (F,) are already one score per feature. Signed maps
(gradients, IG) are ranked by magnitude; range maps (DANCE) are non-negative already, so
taking magnitudes changes nothing for them.
"""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("abs_sum", "abs_mean", "sum", "mean", "abs_max")


def feature_scores(saliency: np.ndarray, feature_ndim: int, mode: str = "abs_mean"
                   ) -> np.ndarray:
    """Reduce trailing channel/embedding axes so that ``feature_ndim`` axes remain.

    saliency: array whose first ``feature_ndim`` axes are kept (count a leading batch axis
    in it when there is one) and whose remaining trailing axes are reduced. mode: one of
    ``REDUCTIONS``. Returns the reduced float32 array.
    """
    if mode not in REDUCTIONS:
        raise ValueError(f"mode: expected one of {REDUCTIONS}, got {mode!r}")
    s = np.asarray(saliency, dtype=np.float32)
    if s.ndim <= feature_ndim:
        return np.abs(s) if mode.startswith("abs_") else s
    axes = tuple(range(feature_ndim, s.ndim))
    if mode.startswith("abs_"):
        s = np.abs(s)
        mode = mode[4:]
    return {"sum": np.sum, "mean": np.mean, "max": np.max}[mode](s, axis=axes)


def input_kind(shape: tuple[int, ...]) -> str:
    """'tabular' for (F,), 'sequence' for (T, D), 'image' for (H, W, C) single inputs."""
    return {1: "tabular", 2: "sequence", 3: "image"}.get(len(shape), "volume")


def feature_axes(shape: tuple[int, ...]) -> int:
    """Number of leading per-input axes that index features (patches are drawn over them).

    (F,) → 1; (T, D) → 1 (words); (H, W, C) → 2 (pixels); rank-4 volumes → 3.
    """
    return 1 if len(shape) == 1 else len(shape) - 1
