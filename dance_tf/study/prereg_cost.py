"""What the pre-registered run cost (issue 26, ``PREREGISTRATION.md`` §8): the wall hours of
its sittings and the seconds one map of each variant took, per net and block. Costs are
not outcomes (nothing here reads a score), so this is shown while the run goes on too."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf.evaluation.card_figures import LABELS
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_tables

#: the table's columns: every variant of the blocks, in the blocks' order
VARIANTS = tuple(dict.fromkeys(v for b in plan.BLOCKS.values() for v in b.variants))


def log_entries(root, name: str) -> list[dict]:
    """The entries of ``ROOT/preregistered/<name>`` (``runs.jsonl``, ``packing-runs.jsonl``)
    with a numeric ``wall_seconds``; a line cut by a kill is skipped."""
    path = Path(root) / "preregistered" / name
    out = []
    for line in (path.read_text(encoding="utf-8").splitlines() if path.is_file() else []):
        try:
            entry = json.loads(line)
            entry["wall_seconds"] = float(entry["wall_seconds"])
        except (ValueError, KeyError, TypeError):
            continue
        out.append(entry)
    return out


def sittings(root) -> dict:
    """{"claims": (runs, wall hours), "packing": (...), "commits": set} from
    ``runs.jsonl`` and ``packing-runs.jsonl`` (:func:`log_entries`)."""
    out: dict = {"commits": set()}
    for key, name in (("claims", "runs.jsonl"), ("packing", "packing-runs.jsonl")):
        entries = log_entries(root, name)
        out["commits"] |= {str(e.get("commit", "?"))[:7] for e in entries}
        out[key] = (len(entries), sum(e["wall_seconds"] for e in entries) / 3600)
    return out


def map_seconds(rows) -> dict:
    """{variant: (median seconds per map, maps, median n_decoys)}: one map per image and
    variant (its rows share ``map_seconds``); the median keeps each call's compiling first
    map from dominating."""
    maps = {(r["variant"], r["index"]): (float(r.get("map_seconds") or 0.0),
                                         int(r.get("n_decoys") or 0)) for r in rows}
    per: dict = defaultdict(list)
    for (variant, _), value in maps.items():
        per[variant].append(value)
    return {v: (float(np.median([s for s, _ in vals])), len(vals),
                int(np.median([d for _, d in vals]))) for v, vals in per.items()}


def section(root, data: dict | None = None) -> list[str]:
    """REPRODUCTION.md's lines on the run's cost ([] without ``ROOT/preregistered``;
    data: ``prereg_tables.load(root)`` when already loaded)."""
    if not (Path(root) / "preregistered").is_dir():
        return []
    runs = sittings(root)
    data = prereg_tables.load(root) if data is None else data
    (n_claims, h_claims), (n_pack, h_pack) = runs["claims"], runs["packing"]
    lines = ["## What the pre-registered run cost", "",
             f"Wall time: **{h_claims + h_pack:.1f} h** of 2-core CPUs with no GPU (AMD "
             "EPYC, then Intel Xeon machines: the hand-written notes below) — the claims "
             f"{h_claims:.1f} h in {n_claims} runs, the packing choice and its confirmation "
             f"{h_pack:.1f} h in {n_pack} (a run: one entry of `runs.jsonl` / "
             "`packing-runs.jsonl`, each step of a sitting writes one; code at commit "
             f"{', '.join(sorted(runs['commits'])) or '?'}).", "",
             "Seconds per map (median over the images, the first compiling map included "
             "in the count), with the decoys a DANCE map used (2n) in brackets:", ""]
    lines += ["| net | block | " + " | ".join(LABELS[v] for v in VARIANTS) + " |",
              "|---|---|" + "---|" * len(VARIANTS)]
    for net in plan.NETS:
        for block in plan.BLOCKS:
            per = map_seconds(data.get((net, block), []))
            if not per:
                continue
            cells = []
            for v in VARIANTS:
                if v not in per:
                    cells.append("–")
                    continue
                sec, _, decoys = per[v]
                cells.append(f"{sec:.2f}" + (f" ({decoys})" if v == "decoys" else ""))
            lines.append(f"| {plan.SHORT_NET[net]} | {block} | " + " | ".join(cells) + " |")
    return lines + [""]
