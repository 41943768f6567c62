"""The robustness tables of a report: sensitivity without and with decoys under each
explanation attack (§4.4; tables S6/S10/S11)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf.evaluation.variants import SHORT, method_order

HEADER = ("| attack | method | SS without decoys | SS with decoys | decoys − without (p) | "
          "top-k ∩ w/o / with | Spearman w/o / with | centre shift px w/o / with | "
          "label kept |")


def mean_se(vals: np.ndarray) -> str:
    """``mean ± s.e.`` of ``vals``."""
    se = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
    return f"{vals.mean():.3f} ± {se:.3f}"


def attack_tables(out: Path, rows: list[dict]) -> list[str]:
    """Tables S6/S10/S11-style: SS without and with decoys under each attack (§4.4)."""
    from dance_tf.plots.images import save_boxplot

    attacked = [r for r in rows if r["variant"].startswith("attack:")]
    if not attacked:
        return []
    scores: dict = defaultdict(dict)
    lines: list[str] = []
    k_values = sorted({r.get("k", 0.0) for r in attacked})
    for k_ss in k_values:
        lines += [f"## Robustness to explanation attacks (§4.4; lower SS is better; maps "
                  f"binarised to the top {k_ss:.0%})", "", HEADER, "|---" * 9 + "|"]
        for attack in sorted({r["variant"] for r in attacked}):
            for m in sorted({r["method"] for r in attacked}, key=method_order):
                sel = [r for r in attacked if r["variant"] == attack and r["method"] == m
                       and r.get("k", 0.0) == k_ss
                       and np.isfinite(r.get("ss_none", np.nan))
                       and np.isfinite(r.get("ss_decoys", np.nan))]
                if not sel:
                    continue
                a, b, line = _attack_line(attack, m, sel)
                lines.append(line)
                name = f"{attack[7:]}: {SHORT.get(m, m)}"
                if len(k_values) > 1:
                    name += f" (K {k_ss:.0%})"
                scores[name] = {"without decoys": a, "with decoys": b}
        lines.append("")
    save_boxplot(out / "sensitivity.png", scores, ylabel="sensitivity SS (lower is better)",
                 title="Sensitivity under attacks")
    return lines


def _attack_line(attack: str, m: str, sel: list[dict]) -> tuple:
    """(SS without, SS with, the table line) of one attack and method."""
    from dance_tf.metrics import paired_stats

    a = np.array([r["ss_none"] for r in sel])
    b = np.array([r["ss_decoys"] for r in sel])
    st = paired_stats(b, a) if len(sel) > 1 else None
    diff = f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})" if st else "–"

    def pair(key):
        return (f"{np.nanmean([r[key + '_none'] for r in sel]):.2f} / "
                f"{np.nanmean([r[key + '_decoys'] for r in sel]):.2f}")

    kept = np.mean([r["label_after_attack"] == r["target"] for r in sel])
    line = (f"| {attack[7:]} | {SHORT.get(m, m)} | {mean_se(a)} | {mean_se(b)} | {diff} | "
            f"{pair('topk_intersection')} | {pair('rank_correlation')} | "
            f"{pair('center_shift')} | {kept:.0%} |")
    return a, b, line
