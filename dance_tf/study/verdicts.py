"""Halves split, paired statistics and verdict words of the reproduction study (S14)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

#: significance level of every verdict (one-sided paired t-test, S14)
ALPHA = 0.05
#: seed of the halves split (fixed: the split must not depend on anything seen later)
HALF_SEED = 14


def in_first_half(input_id: str, seed: int = HALF_SEED) -> bool:
    """True if ``input_id`` belongs to the first half: sha256(f"{seed}:{id}") read as a
    number in [0, 1) is below 1/2. Fixed per id, so an input's half never depends on which
    or how many other inputs have run."""
    digest = hashlib.sha256(f"{seed}:{input_id}".encode()).hexdigest()
    return int(digest[:16], 16) < 2**63


def halves(ids, seed: int = HALF_SEED) -> tuple[list[str], list[str]]:
    """Split input ids into (first, second) halves, deterministically and disjointly (see
    :func:`in_first_half`; the halves are balanced only on average). Choices are made on
    the first half, verdicts reported on the second. Both keep the given order."""
    ids = [str(i) for i in ids]
    if len(set(ids)) != len(ids):
        raise ValueError("ids: expected distinct input ids")
    first = [i for i in ids if in_first_half(i, seed)]
    return first, [i for i in ids if not in_first_half(i, seed)]


@dataclass(frozen=True)
class Comparison:
    """Paired comparison diff = ours − baseline over n inputs.

    mean, se: of diff; p: one-sided paired t-test p with H0 E[diff] ≥ 0 (small p: ours
    lower, i.e. better for SF and SS); p_opposite: the same test with H0 E[diff] ≤ 0;
    ours, baseline: the means of each side.
    """

    mean: float
    se: float
    p: float
    p_opposite: float
    n: int
    ours: float
    baseline: float

    @property
    def verdict(self) -> str:
        return verdict(self.p, self.p_opposite)


def compare(ours, baseline) -> Comparison:
    """Paired statistics of ours − baseline (arrays (n,) of the same inputs, n ≥ 2)."""
    from dance_tf.metrics import paired_stats

    a = np.asarray(ours, np.float64)
    b = np.asarray(baseline, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"ours, baseline: expected two (n,) arrays, got {a.shape}, {b.shape}")
    if a.size < 2:
        raise ValueError(f"ours: expected at least 2 paired inputs, got {a.size}")
    st = paired_stats(a, b)
    opp = paired_stats(b, a)
    keep = np.isfinite(a) & np.isfinite(b)
    return Comparison(st.mean, st.se, st.p, opp.p, st.n, float(a[keep].mean()),
                      float(b[keep].mean()))


def verdict(p: float, p_opposite: float, alpha: float = ALPHA) -> str:
    """Words for a claim "ours is lower than the baseline": ``reproduced`` (p < α),
    ``opposite`` (the opposite one-sided test has p < α), else ``not significant``."""
    if np.isfinite(p) and p < alpha:
        return "reproduced"
    if np.isfinite(p_opposite) and p_opposite < alpha:
        return "opposite"
    return "not significant"


def format_p(p: float) -> str:
    """A p-value as the report prints it: ``< 0.001``, three decimals, or ``–`` (none)."""
    if not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 1e-3 else f"{p:.3f}"
