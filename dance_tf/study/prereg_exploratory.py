"""The exploratory results of the pre-registered run (issue 26, ``PREREGISTRATION.md`` §2
and amendment 1 point 4): every score of every map the claims' blocks made, as means per
variant and DANCE − plain, with no test and no verdict. A claim's own metric is marked; its
verdict is in the confirmatory table. Shown only after the stop (§4, no interim looks)."""

from __future__ import annotations

import numpy as np

from dance_tf.evaluation.card_figures import LABELS
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_tables

METRIC_NAMES = {"sf_k10": "SF 10 %", "sf_k20": "SF 20 %", "sf_k40": "SF 40 %",
                plan.CONTINUOUS: "continuous"}


def paired_means(rows, metric: str, variants, upto: int) -> tuple[int, dict, np.ndarray]:
    """(n, {variant: mean}, DANCE − plain per image) over the images < ``upto`` that have a
    finite ``metric`` score for every one of ``variants`` (so every mean is over the same
    images)."""
    s = prereg_tables.scores(rows, metric, upto)
    common = set.intersection(*(set(s.get(v, {})) for v in variants))
    ids = sorted(i for i in common if all(np.isfinite(s[v][i]) for v in variants))
    means = {v: float(np.mean([s[v][i] for i in ids])) if ids else float("nan")
             for v in variants}
    diff = np.array([s["decoys"][i] - s["none"][i] for i in ids])
    return len(ids), means, diff


def _claim_of(block: str, metric: str) -> str:
    return next((c.id for c in plan.CLAIMS.values()
                 if c.block == block and c.metric == metric), "")


def block_lines(data: dict, block: str) -> list[str]:
    """One table for ``block``: a row per net and metric with n, the mean of every
    variant and DANCE − plain ± s.e. (data: ``prereg_tables.load``)."""
    variants = plan.BLOCKS[block].variants
    out = ["| net | metric | n | " + " | ".join(LABELS[v] for v in variants)
           + " | with − without decoys ± s.e. |", "|---|---|---|" + "---|" * (len(variants) + 1)]
    for net in plan.NETS:
        rows = data.get((net, block), [])
        if not rows:
            continue
        for metric in plan.METRICS:
            n, means, diff = paired_means(rows, metric, variants, plan.block_n(net, block))
            if n == 0:
                continue
            claim = _claim_of(block, metric)
            label = METRIC_NAMES[metric] + (f" (**{claim}**)" if claim else "")
            se = diff.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
            out.append(f"| {plan.SHORT_NET[net]} | {label} | {n} | "
                       + " | ".join(f"{means[v]:.3f}" for v in variants)
                       + f" | {diff.mean():+.3f} ± {se:.3f} |")
    return out + [""]


def section(root, data: dict | None = None) -> list[str]:
    """REPRODUCTION.md's exploratory lines on the pre-registered maps ([] before the stop
    or without rows; data: ``prereg_tables.load(root)`` when already loaded)."""
    if prereg_tables.stopped(root) is None:
        return []
    data = prereg_tables.load(root) if data is None else data
    if not data:
        return []
    lines = ["## Exploratory: every score of the pre-registered maps", "",
             "The same maps as the confirmatory table, scored every way they were scored "
             "(SF at K = 10 / 20 / 40 %, fill 0, and the continuous fidelity; lower is "
             "better for all of them). Means over the images with a finite score for every "
             "variant of the block, within the block's n; no test, no verdict. **Bold**: "
             "the claim whose confirmatory test used that metric (its verdict is above). "
             "*matched compute*: the base method given as many model evaluations as the DANCE map "
             "(PREREGISTRATION.md §6, amendment 1).", ""]
    names = {"gradient": "Gradient (tiles m = 500)",
             "smoothgrad": "SmoothGrad-10 (tiles m = 2000)",
             "integrated_gradients": "Integrated gradients-10 (tiles m = 2000)",
             "expected_gradients": "Expected gradients-8 (tiles m = 2000)"}
    for block in plan.BLOCKS:
        table = block_lines(data, block)
        if len(table) > 3:
            lines += [f"**{names[block]}**", "", *table]
    return lines
