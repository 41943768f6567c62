"""What ``evaluate_model`` returns: its rows and the paired comparisons decoys − each other
variant per method × metric, with 95 % intervals, two-sided paired t-test p-values and
Holm's correction over every comparison made (S14; Holm 1979)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
#: columns of :meth:`CardResult.to_rows`
COLUMNS = ("index", "method", "variant", "metric", "value", "direction", "target")


@dataclass(frozen=True)
class Comparison:
    """decoys − ``variant`` for one method and metric over the n inputs both have: mean
    difference, its 95 % interval [low, high], two-sided p, Holm-adjusted p (NaN when
    the test is undefined: n < 2 or every difference zero) and the verdict."""

    method: str
    metric: str
    variant: str
    direction: str
    n: int
    mean: float
    low: float
    high: float
    p: float
    p_holm: float
    verdict: str


def verdict(mean: float, p_holm: float, direction: str) -> str:
    """"decoys better" / "decoys worse" when Holm's p < ALPHA (better: a higher score when
    higher is better), "no difference" otherwise, "–" when untested."""
    if not np.isfinite(p_holm):
        return "–"
    if p_holm >= ALPHA:
        return "no difference"
    return "decoys better" if (mean > 0) == (direction == "higher") else "decoys worse"


def pairs(rows: list[dict]) -> dict:
    """{(method, metric): {variant: {index: value}}} of the finite scores."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["value"] is not None and np.isfinite(r["value"]):
            out[(r["method"], r["metric"])][r["variant"]][r["index"]] = float(r["value"])
    return out


def compare(rows: list[dict]) -> list[Comparison]:
    """The comparisons decoys − v of every method × metric × other variant v in ``rows``,
    Holm-corrected together."""
    from dance_tf.metrics.stats import holm, paired_test

    direction = {r["metric"]: r["direction"] for r in rows}
    raw = []
    for (m, metric), per in sorted(pairs(rows).items()):
        ours = per.get("decoys", {})
        for v in sorted(per):
            if v == "decoys" or not ours:
                continue
            ids = sorted(set(ours) & set(per[v]))
            if len(ids) < 2:
                continue
            t = paired_test([ours[i] for i in ids], [per[v][i] for i in ids])
            raw.append((m, metric, v, len(ids), t))
    tested = [k for k, item in enumerate(raw) if np.isfinite(item[4].p)]
    adjusted = np.full(len(raw), np.nan)
    if tested:
        adjusted[tested] = holm([raw[k][4].p for k in tested])
    return [Comparison(m, metric, v, direction[metric], n, t.mean, t.low, t.high, t.p,
                       float(a), verdict(t.mean, a, direction[metric]))
            for (m, metric, v, n, t), a in zip(raw, adjusted)]


class CardResult:
    """The rows of a run (input × method × variant × metric) and their comparisons.

    ``rows``: dicts with at least COLUMNS (``value`` None when the metric was not finite);
    ``comparisons``: :class:`Comparison` list; ``to_rows()`` → a list of tuples of
    COLUMNS; ``to_json()`` → text; ``values(method, variant, metric)`` → (index, value)
    arrays."""

    def __init__(self, rows: list[dict]):
        self.rows = sorted(rows, key=lambda r: (r["index"], r["method"], r["variant"],
                                                r["metric"]))
        self._comparisons: list[Comparison] | None = None

    @property
    def comparisons(self) -> list[Comparison]:
        """The Holm-corrected comparisons, computed when first asked for (a run that must
        not look at its statistics yet never asks)."""
        if self._comparisons is None:
            self._comparisons = compare(self.rows)
        return self._comparisons

    def to_rows(self) -> list[tuple]:
        return [tuple(r.get(c) for c in COLUMNS) for r in self.rows]

    def to_json(self) -> str:
        return json.dumps({"rows": self.rows,
                           "comparisons": [c.__dict__ for c in self.comparisons]},
                          sort_keys=True)

    def values(self, method: str, variant: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
        sel = [r for r in self.rows if (r["method"], r["variant"], r["metric"])
               == (method, variant, metric)]
        return (np.array([r["index"] for r in sel]),
                np.array([np.nan if r["value"] is None else r["value"] for r in sel]))

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return (f"CardResult({len(self.rows)} rows, {len(self.comparisons)} comparisons, "
                f"{sum(c.verdict.startswith('decoys ') for c in self.comparisons)} "
                "significant after Holm)")
