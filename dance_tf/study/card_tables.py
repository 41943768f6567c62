"""The report card's metrics in REPRODUCTION.md (issue 25): per card condition (second
halves), each metric's mean without decoys, with decoys and compute-matched, and the
paired differences decoys − none and decoys − matched, Holm-corrected over every
comparison of the card conditions together (a family of its own, apart from the claims)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load(folder: Path) -> list[dict]:
    """The rows of a card condition folder (``rows.jsonl`` of ``evaluate_model``)."""
    from dance_tf.study.folders import read_jsonl

    return read_jsonl(Path(folder) / "rows.jsonl")


def card_section(study, conds, lines: list[str]) -> None:
    """Append the card table of every card condition with rows to ``lines``."""
    from dance_tf.evaluation.card_result import compare, pairs

    done = [c for c in conds if c.group == "card" and c.name in study.data]
    if not done:
        return
    rows = [dict(r, method=f"{c.name}|{r['method']}") for c in done
            for r in study.data[c.name][1]]
    tests = {(t.method, t.metric, t.variant): t for t in compare(rows)}
    direction = {r["metric"]: r["direction"] for r in rows}
    means = {key: {v: np.mean(list(vals.values())) for v, vals in per.items()}
             for key, per in pairs(rows).items()}
    lines += ["## Report-card metrics (second halves; issue 25)", "",
              "Each metric at its defaults (`dance_tf.evaluation.card_metrics`), chosen "
              "before any ran; gradient; `matched` = SmoothGrad's mean with as many model "
              "evaluations as the DANCE map (2n draws). Difference = decoys − baseline per "
              "input, mean [95 % interval]; two-sided paired t-test, Holm over the "
              f"{len(tests)} comparisons of this table (a family apart from the claims'). "
              "Arrow: the better direction of the metric.", "",
              "| condition | metric | n | none | decoys | matched | decoys − none | Holm p "
              "| verdict | decoys − matched | Holm p | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(means):
        cond, method = key[0].split("|", 1)
        metric = key[1]
        mean = means[key]
        found = [tests.get((key[0], metric, v)) for v in ("none", "matched")]
        cells = []
        for t in found:
            cells += (["–"] * 3 if t is None else
                      [f"{t.mean:+.4f} [{t.low:+.4f}, {t.high:+.4f}]", _p(t.p_holm),
                       t.verdict])
        n = max((t.n for t in found if t is not None), default=0)
        arrow = {"higher": "↑", "lower": "↓"}.get(direction.get(metric, ""), "")
        label = cond if method == "gradient" else f"{cond} ({method})"
        lines.append(f"| {label} | {metric} {arrow} | {n} | "
                     + " | ".join(_num(mean.get(v)) for v in ("none", "decoys", "matched"))
                     + " | " + " | ".join(cells) + " |")
    lines.append("")


def _num(value) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.4f}"


def _p(p: float) -> str:
    return "–" if not np.isfinite(p) else ("< 0.0001" if p < 1e-4 else f"{p:.4f}")
