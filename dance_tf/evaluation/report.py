"""The report of a results folder: fidelity tables (mean ± s.e.; paired decoys − variant,
one-sided p), attack tables, timings, box plots and example panels (``OUT/report.md``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf.evaluation.attack_tables import attack_tables, mean_se
from dance_tf.evaluation.figures import fidelity_boxplot, panels
from dance_tf.evaluation.results import EvaluationError, output_folder, read_rows
from dance_tf.evaluation.run_config import CONFIG_FILE, config_digest, read_config, row_checker
from dance_tf.evaluation.variants import SHORT, VARIANTS

#: the variants whose rows carry decoy statistics (certified share, solver steps)
_DECOY_VARIANTS = ("decoys", "mean", "covering")


def summarise(rows: list[dict], k: str) -> tuple[dict, list[str]]:
    """({method: {variant: {id: SF}}} for one K, notes). A (method, variant) whose rows do
    not all have K is left out (its table would cover fewer inputs than its neighbours)
    and named in the notes."""
    table: dict = defaultdict(lambda: defaultdict(dict))
    count: dict = defaultdict(int)
    for r in rows:
        if r["variant"].startswith("attack:"):
            continue
        count[(r["method"], r["variant"])] += 1
        if k in r["sf"]:
            table[r["method"]][r["variant"]][r["id"]] = r["sf"][k]
    notes = []
    for (m, v), n in count.items():
        have = len(table[m].get(v, {}))
        if have < n:
            notes.append(f"{SHORT.get(m, m)} {VARIANTS.get(v, v)}: K = {float(k):.0%} known for "
                         f"{have} of {n} inputs (rerun with this K to complete it)")
            table[m].pop(v, None)
    return {m: dict(vs) for m, vs in table.items() if vs}, notes


def report(out: Path, task=None, log=print, force: bool = False) -> str:
    """Tables (mean ± s.e.; paired decoys − variant, one-sided p), box plots, panels:
    ``OUT/report.md``, ``OUT/fidelity_k<K>.png``, ``OUT/sensitivity.png``,
    ``OUT/examples/``. Written together through dance_tf.output_folder (never over a file
    dance-tf did not write, never through a link; ``force``: into a folder that holds
    other files too); the text is returned."""
    out = Path(out)
    outputs = output_folder(out, force) if out.is_dir() else None
    cfg = read_config(out) if out.is_dir() else None
    paths = sorted(out.glob("results*.jsonl")) if out.is_dir() else []
    if cfg is None:
        if paths:
            raise EvaluationError(f"{out}: holds results but no {CONFIG_FILE}, so their "
                                  "configuration is unknown; use another --out")
        return "no results"
    if task is not None and task.name != cfg["task"]:
        raise EvaluationError(f"{out}: holds results of task {cfg['task']!r}, not "
                              f"{task.name!r}; use another --out")
    rows = read_rows(paths, row_checker(cfg, config_digest(cfg)))
    if not rows:
        return "no results"
    with outputs.stage() as staging:
        text = _write(out, staging.root(), cfg, rows, task, log)
        staging.commit()
    return text


def _write(out: Path, into: Path, cfg: dict, rows: list[dict], task, log) -> str:
    """Draw the figures and write ``report.md`` into ``into``; returns the text."""
    ks = sorted({k for r in rows for k in r["sf"]}, key=float)
    lines = [f"# Evaluation report: {cfg['task']}", ""]
    if task is not None and task.description:
        lines += [task.description, ""]
    lines += [f"{len({r['id'] for r in rows})} inputs; SF = −log p_c after keeping the top-K "
              "features (lower is better).", ""]
    for k in ks:
        table, notes = summarise(rows, k)
        for note in notes:
            log(f"report: {note}")
        if not table:
            continue
        lines += _fidelity_lines(table, k, notes)
        fidelity_boxplot(into, table, k)
    lines += attack_tables(into, rows)
    lines += _timing_lines(rows)
    if task is not None and task.render is not None:
        panels(out, rows, task, into=into)
    text = "\n".join(lines) + "\n"
    (into / "report.md").write_text(text, encoding="utf-8")
    return text


def _fidelity_lines(table: dict, k: str, notes: list[str]) -> list[str]:
    """The SF table at one K and the table of paired differences decoys − variant."""
    variants = [v for v in VARIANTS if any(v in table[m] for m in table)]
    lines = [f"## Fidelity SF, K = {float(k):.0%}", "",
             "| method | " + " | ".join(VARIANTS[v] for v in variants) + " |",
             "|---" * (len(variants) + 1) + "|"]
    for m in table:
        cells = []
        for v in variants:
            vals = np.array(list(table[m].get(v, {}).values()), float)
            cells.append(mean_se(vals) if vals.size else "–")
        lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
    lines += ["", f"Paired differences, with decoys − variant (mean ± s.e., one-sided p, "
              f"H0: E[diff] ≥ 0; S14), K = {float(k):.0%}:", ""]
    others = [v for v in variants if v != "decoys"]
    lines += ["| method | " + " | ".join(VARIANTS[v] for v in others) + " |",
              "|---" * (len(others) + 1) + "|"]
    for m in table:
        ours = table[m].get("decoys", {})
        cells = [_paired(ours, table[m].get(v, {})) for v in others]
        lines.append(f"| {SHORT.get(m, m)} | " + " | ".join(cells) + " |")
    lines += [f"Incomplete at this K, left out: {n}" for n in notes]
    lines.append("")
    return lines


def _paired(ours: dict, base: dict) -> str:
    """``mean ± s.e. (p=…)`` of decoys − variant over the inputs both have (≥ 2)."""
    from dance_tf.metrics import paired_stats

    ids = sorted(set(ours) & set(base))
    if len(ids) < 2:
        return "–"
    st = paired_stats([ours[i] for i in ids], [base[i] for i in ids])
    return f"{st.mean:+.3f} ± {st.se:.3f} (p={st.p:.3g})"


def _timing_lines(rows: list[dict]) -> list[str]:
    """The time per explanation of each (method, variant), with its decoy statistics."""
    timing = defaultdict(list)
    for r in rows:
        timing[(r["method"], r["variant"])].append(float(r.get("seconds", np.nan)))
    lines = ["## Time per explanation (s; the mean includes the first, compiling call)", "",
             "| method | variant | mean s | median s | decoys | certified | steps (mean) |",
             "|---|---|---|---|---|---|---|"]
    for (m, v), ts in sorted(timing.items()):
        sel = [r for r in rows if r["method"] == m and r["variant"] == v]
        n_items = sel[0].get("n_items", "–")
        cert = [r["certified"] for r in sel if "certified" in r]
        cert_s = f"{np.mean(cert):.3f}" if cert and v in _DECOY_VARIANTS else "–"
        steps = [r["steps_mean"] for r in sel if "steps_mean" in r]
        steps_s = f"{np.mean(steps):.1f}" if steps and v in _DECOY_VARIANTS else "–"
        lines.append(f"| {SHORT.get(m, m)} | {VARIANTS.get(v, v)} | {np.mean(ts):.3f} | "
                     f"{np.median(ts):.3f} | {n_items} | {cert_s} | {steps_s} |")
    return lines

