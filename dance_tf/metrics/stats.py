"""Paired comparison statistics of (ours − baseline) (S14, Tables S4–S11), the two-sided
form with its confidence interval, and Holm's correction over a family of tests."""

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


class PairedTest(tuple):
    """(mean, low, high, p) of diff = ours − baseline: the mean difference, its two-sided
    confidence interval and the two-sided paired t-test p; also ``.se``, ``.n`` and
    ``.dropped`` as in :class:`PairedStats`."""

    def __new__(cls, mean: float, low: float, high: float, p: float, se: float, n: int,
                dropped: int = 0):
        obj = super().__new__(cls, (mean, low, high, p))
        obj.se, obj.n, obj.dropped = se, n, dropped
        return obj

    mean = property(lambda self: self[0])
    low = property(lambda self: self[1])
    high = property(lambda self: self[2])
    p = property(lambda self: self[3])


def paired_test(ours, baseline, confidence: float = 0.95) -> PairedTest:
    """Two-sided paired t-test of diff = ours − baseline and the ``confidence`` interval
    mean ± t_{(1+confidence)/2, n−1} · s.e. (Student 1908; S14's test, both sides).

    ours, baseline: (N,) scores of the same inputs (pairs with a NaN or Inf dropped, as
    in :func:`paired_stats`). p = 2 · min(one-sided p's); every difference the same
    non-zero value gives p = 0 and the interval [mean, mean]; all zero or N < 2: p and
    the interval are NaN.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a fraction in (0, 1), got {confidence}")
    st = paired_stats(ours, baseline)
    p = float("nan") if not np.isfinite(st.p) else min(1.0, 2.0 * min(st.p, 1.0 - st.p))
    if st.n < 2 or not np.isfinite(p):
        low = high = float("nan")
    else:
        half = float(stats.t.ppf(0.5 + confidence / 2, st.n - 1)) * st.se
        low, high = st.mean - half, st.mean + half
    return PairedTest(st.mean, low, high, p, st.se, st.n, st.dropped)


def holm(pvalues) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (Holm 1979), in the order given: the i-th
    smallest p times (m − i + 1), made monotone and capped at 1. pvalues: (m,) finite."""
    p = np.asarray(pvalues, np.float64)
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise ValueError("pvalues: expected a list of finite p-values")
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj
