"""Paired comparison statistics of (ours − baseline) (S14, Tables S4–S11)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats


class PairedStats(NamedTuple):
    mean: float
    se: float
    p: float
    n: int


def paired_stats(ours, baseline) -> PairedStats:
    """Mean, standard error and one-sided paired t-test p of diff = ours − baseline.

    H0: E[diff] ≥ 0 (S14), so a small p says ours is lower (better for SF and SS).
    ours, baseline: (N,) scores of the same inputs. Returns ``PairedStats(mean, se, p, n)``;
    p is NaN when N < 2, and 0.5 is never invented: all-equal pairs give p = NaN.
    """
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(baseline, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"ours and baseline: expected equal lengths, got {a.size} and {b.size}")
    diff = a - b
    n = diff.size
    if n == 0:
        raise ValueError("ours: expected at least one paired score")
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    if n < 2 or not np.any(diff != diff[0]):
        p = float("nan")
    else:
        p = float(stats.ttest_1samp(diff, 0.0, alternative="less").pvalue)
    return PairedStats(mean, se, p, n)
