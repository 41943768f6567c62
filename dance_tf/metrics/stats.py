"""Paired comparison statistics of (ours − baseline) (S14, Tables S4–S11)."""

from __future__ import annotations

import numpy as np
from scipy import stats


class PairedStats(tuple):
    """(mean, se, p) of diff = ours − baseline; also ``.n`` pairs used and ``.dropped``
    pairs with a non-finite score."""

    def __new__(cls, mean: float, se: float, p: float, n: int, dropped: int = 0):
        obj = super().__new__(cls, (mean, se, p))
        obj.n, obj.dropped = n, dropped
        return obj

    mean = property(lambda self: self[0])
    se = property(lambda self: self[1])
    p = property(lambda self: self[2])


def paired_stats(ours, baseline) -> PairedStats:
    """Mean, standard error and one-sided paired t-test p of diff = ours − baseline (S14).

    H0: E[diff] ≥ 0, so a small p says ours is lower (better for SF and SS).
    ours, baseline: (N,) scores of the same inputs; pairs with a NaN or Inf score are
    dropped (counted in ``.dropped``). Unpacks as ``mean, se, p``. With N < 2, p is NaN;
    when every difference is the same value the t statistic is ±∞ and p is 0 (all lower)
    or 1 (all higher), NaN if all are zero.
    """
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(baseline, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"ours and baseline: expected equal lengths, got {a.size} and {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    diff = (a - b)[keep]
    n = diff.size
    if n == 0:
        raise ValueError("ours: expected at least one finite paired score")
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    if n < 2:
        p = float("nan")
    elif np.all(diff == diff[0]):
        p = float("nan") if diff[0] == 0 else (0.0 if diff[0] < 0 else 1.0)
    else:
        p = float(stats.ttest_1samp(diff, 0.0, alternative="less").pvalue)
    return PairedStats(mean, se, p, n, int(a.size - n))
