"""REPRODUCTION.md and its figures, from the rows of the study's condition folders only
(``--report-only`` recomputes nothing): the pre-registered claims first
(:mod:`dance_tf.study.prereg_report`), then the earlier study's protocol, the tables
(:mod:`dance_tf.study.fidelity_tables`, :mod:`dance_tf.study.sensitivity_tables`), Holm's
correction over every second-half comparison, the run times and the ImageNet examples."""

from __future__ import annotations

import platform
from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf import single_file
from dance_tf.metrics.stats import holm
from dance_tf.study import card_tables, prereg_report
from dance_tf.study import fidelity_tables as fidelity
from dance_tf.study import sensitivity_tables as sensitivity
from dance_tf.study.conditions import Condition
from dance_tf.study.folders import read_runs
from dance_tf.study.rows import Study
from dance_tf.study.verdicts import ALPHA, HALF_SEED, format_p


def multiplicity_section(study: Study) -> list[str]:
    """Which significant verdicts survive Holm's correction over every second-half
    comparison of the report (two-sided p = 2 × the smaller one-sided p)."""
    fam = [(label, st) for label, st in study.family
           if np.isfinite(st.p) and np.isfinite(st.p_opposite)]
    if not fam:
        return []
    two = [min(1.0, 2 * min(st.p, st.p_opposite)) for _, st in fam]
    adj = holm(two)
    sig = [(label, st, a) for (label, st), a in zip(fam, adj) if st.verdict != "not significant"]
    lines = [f"## Multiplicity ({len(fam)} second-half comparisons)", "",
             f"Each verdict above uses one test at α = {ALPHA}; over {len(fam)} comparisons "
             f"about {ALPHA * len(fam):.1f} would come out significant by chance alone if "
             "DANCE changed nothing. Holm's correction over all of them (two-sided p):", "",
             "| comparison | verdict | difference ± s.e. | n | Holm-adjusted p | survives |",
             "|---|---|---|---|---|---|"]
    for label, st, a in sorted(sig, key=lambda t: t[2]):
        lines.append(f"| {label} | {st.verdict} | {st.mean:+.3f} ± {st.se:.3f} | {st.n} | "
                     f"{format_p(a)} | {'yes' if a < ALPHA else 'no'} |")
    lines.append("")
    return lines


def run_times(study: Study, conds, lines: list[str]) -> None:
    lines += ["## Run time of each table", "",
              "Wall time: sum over the sittings that ran the folder (runs.jsonl); per "
              "explanation: mean of the rows' own time (the first, compiling call included).",
              "", "| condition | rows | wall time (min) | seconds per explanation by variant |",
              "|---|---|---|---|"]
    for c in conds:
        if c.name not in study.data or c.folder != c.name:
            continue
        rows = study.data[c.name][1]
        wall = sum(r.get("wall_seconds", 0) for r in read_runs(study.root / c.folder)) / 60
        per = defaultdict(list)
        for r in rows:
            seconds = r.get("seconds", r.get("map_seconds"))   # card rows: map_seconds
            per[(r["method"], r["variant"])].append(np.nan if seconds is None
                                                    else float(seconds))
        cells = "; ".join(f"{m}/{v} {np.nanmean(t):.2f}" for (m, v), t in sorted(per.items())
                          if np.isfinite(t).any()) or "–"
        lines.append(f"| {c.name} | {len(rows)} | {wall:.1f} | {cells} |")
    lines.append("")


def example_grid(study: Study, figures: Path, lines: list[str]) -> None:
    """ImageNet: image, without decoys, with decoys, difference (Fig. 2A layout)."""
    path = study.root / "imagenet" / "examples.npz"
    if not path.exists():
        return
    from dance_tf.plots import _figure

    data = np.load(path)
    ids = sorted({k.split("|")[0] for k in data.files})
    fig, axes = _figure.subplots(len(ids), 4, figsize=(8, 2.1 * len(ids)), squeeze=False)
    for r, tid in enumerate(ids):
        a = data[f"{tid}|none"].astype(np.float32)
        b = data[f"{tid}|decoys"].astype(np.float32)
        a_n = a / (np.percentile(a, 99) or 1.0)
        b_n = b / (np.percentile(b, 99) or 1.0)
        panels = [(data[f"{tid}|image"], None, tid), (np.clip(a_n, 0, 1), "hot", "without"),
                  (np.clip(b_n, 0, 1), "hot", "with decoys"),
                  (b_n - a_n, "coolwarm", "with − without")]
        for ax, (img, cmap, title) in zip(axes[r], panels):
            if cmap == "coolwarm":
                lim = float(np.percentile(np.abs(img), 99)) or 1.0
                ax.imshow(img, cmap=cmap, vmin=-lim, vmax=lim)
            else:
                ax.imshow(img, cmap=cmap)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    out = _figure.save(fig, figures / "imagenet_examples.png", dpi=72)
    lines += ["Example maps (gradient; |map| averaged over channels, each scaled to its 99th "
              "percentile; difference of the scaled maps):", "",
              f"![ImageNet examples]({out.relative_to(study.root.parent)})", ""]


def write(root: Path, conds: list[Condition], out: Path, seed: int, command: str,
          not_run_note: str = "") -> str:
    """Write REPRODUCTION.md (``out``) from the rows under ``root``; returns its text."""
    study = Study(root, conds)
    figures = Path(root) / "figures"
    any_cfg = next(iter(study.data.values()))[0] if study.data else {}
    versions = any_cfg.get("versions", {})
    lines = ["# Reproduction of DANCE (Lu et al., ICML 2021): what this package measures", "",
             "Generated by `" + command + "` from the raw rows in `reproduction/` (regenerate "
             "without recomputing: `python scripts/reproduce.py --report-only`).", ""]
    prereg = prereg_report.lines(root, figures)
    if prereg:
        lines += ["It leads with the **pre-registered claims** (issue 26, "
                  "[reproduction/PREREGISTRATION.md](reproduction/PREREGISTRATION.md)): "
                  "the only results here with a verdict under a correction fixed before any "
                  "of their rows existed. Then the packing choice for large images, the "
                  "same maps scored the other ways (exploratory) and the run's cost. "
                  "Everything from *Protocol* on is the **earlier, exploratory study**: its "
                  "verdicts are per comparison at α = 0.05, and its multiplicity table says "
                  "which survive Holm's correction.", "", *prereg]
    lines += ["## Protocol", "",
              "- Every number comes from `dance_tf.evaluation` rows (one folder per condition "
              "under `reproduction/`, `config.json` + `results.jsonl.gz`).",
              f"- **Halves.** Each task's inputs are split into two halves by a hash of their "
              f"ids (seed {HALF_SEED}; `dance_tf.study.verdicts.halves`). Choices (the open-"
              "choices table) are measured on the first half only; **every verdict below is "
              "on the second half**. No default of the package was changed by this study.",
              f"- Statistics (S14): difference = ours − baseline per input, mean ± standard "
              f"error, one-sided paired t-test (H0: E[diff] ≥ 0). Verdict: *reproduced* if "
              f"p < {ALPHA}; *opposite* if the opposite one-sided test has p < {ALPHA}; "
              "otherwise *not significant*.",
              "- The paper's numbers are from its Tables S2, S4–S7 (\"Mean±Std\" as printed). "
              "The paper's ImageNet net is VGG16; ours are trained EfficientNet-Lite nets "
              "available offline (Lite0 in the tables below; Lite0, Lite1 and Lite2 in the "
              "pre-registered claims). Digits are not in the paper.",
              f"- Seeds: decoys and noise {seed}; data split 0 (digits); halves {HALF_SEED}.",
              f"- Versions: dance_tf {versions.get('dance_tf', '?')}, TensorFlow "
              f"{versions.get('tensorflow', '?')}, Keras {versions.get('keras', '?')}, "
              f"Python {platform.python_version()}.",
              "- Machine: 2-core CPU, no GPU, shared with other jobs (times are upper bounds).",
              ""]
    fidelity.summary_section(study, conds, lines)
    after_summary = len(lines)
    notes = Path(root) / "NOTES.md"
    if notes.exists():   # hand-written reading of the tables, kept beside the rows
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    lines += ["## Fidelity claims (Fig. 2B / Table S4, Fig. 3B / Table S5, Table S2, S11)", ""]
    for c in conds:
        if (c.group == "main" and c.name in study.data and c.folder == c.name
                and c.name != "imagenet-igsg"):
            fidelity.fidelity_section(study, c, lines, figures)
            if c.name == "imagenet":
                example_grid(study, figures, lines)
    c = next((c for c in conds if c.name == "imagenet-igsg"), None)
    if c is not None and c.name in study.data:
        fidelity.fidelity_section(study, c, lines, figures)
    fidelity.choices_section(study, conds, lines)
    sensitivity.attacks_section(study, conds, lines)
    fidelity.other_section(study, conds, "s9", "S9 methods (Table S7; ImageNet)", lines)
    fidelity.other_section(study, conds, "m", "Number of decoys m (Fig. 2C / S10; digits)", lines)
    fidelity.continuous_section(study, conds, lines)
    sensitivity.sanity_section(study, conds, lines)
    card_tables.card_section(study, conds, lines)
    lines[after_summary:after_summary] = multiplicity_section(study)
    run_times(study, conds, lines)
    lines += ["## What has not run", ""]
    missing = [c for c in conds if c.name not in study.data
               and not (c.group == "prereg" and prereg)]
    for c in missing:
        lines.append(f"- `{c.name}` ({c.group}, {c.task}): no rows yet.")
    if not_run_note:
        lines += ["", not_run_note]
    lines.append("")
    text = "\n".join(lines)

    single_file.write_text(out, text)
    return text
