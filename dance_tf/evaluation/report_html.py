"""The report of an evaluate_model folder, built from ``OUT/rows.jsonl`` alone (and the
example maps of ``OUT/examples.npz`` for the panels): ``OUT/report.html``, one
self-contained page (figures as base64 PNG data URIs), and ``OUT/report.md``.

Per metric (its direction stated): a table per method × variant with the number of
inputs, the mean score, the paired difference decoys − variant with its 95 % interval,
the two-sided p, Holm's adjusted p over every comparison of the folder and the verdict;
then box plots, mean deletion / insertion curves when the rows carry curves, and example
panels (one colour scale per method row). Numbers are written with :func:`fmt`.
A report file that this code did not write is never overwritten.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import numpy as np

from dance_tf.evaluation.card_figures import (
    LABELS,
    boxplot_png,
    curves_png,
    panel_png,
    variant_order,
)
from dance_tf.evaluation.card_result import ALPHA, CardResult
from dance_tf.evaluation.card_rows import CONFIG_FORMAT, ROWS_FILE, load_rows
from dance_tf.evaluation.results import EvaluationError, regular_or_absent
from dance_tf.evaluation.run_config import config_digest, read_config

MARK_HTML = '<meta name="generator" content="dance_tf evaluate_model report">'
MARK_MD = "<!-- dance_tf evaluate_model report -->"
HEADER = ("method", "variant", "n", "mean", "decoys − variant", "95% CI", "p", "Holm p",
          "verdict")
#: sets ``data-images`` on <body> once the page has loaded: "decoded" when every image
#: decoded, else "broken" (read by the browser test)
CHECK_SCRIPT = ("window.addEventListener('load', function () {"
                " var ok = Array.prototype.every.call(document.images, function (i) {"
                " return i.complete && i.naturalWidth > 0; });"
                " document.body.setAttribute('data-images', ok ? 'decoded' : 'broken'); });")
STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0 1em}"
         "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}"
         "td:nth-child(-n+2),th{text-align:left}.better{color:#060}.worse{color:#a00}"
         "img{max-width:100%}")


def fmt(value) -> str:
    """How the report writes a number: 4 significant digits; "–" for none / NaN."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


def table_rows(result: CardResult) -> dict[str, list[tuple]]:
    """{metric: [cells of HEADER]} in method, variant order."""
    comps = {(c.method, c.metric, c.variant): c for c in result.comparisons}
    out: dict = {}
    order = {m: k for k, m in enumerate(dict.fromkeys(r["metric"] for r in result.rows))}
    keys = sorted({(r["metric"], r["method"], r["variant"]) for r in result.rows},
                  key=lambda k: (order[k[0]], k[1], variant_order(k[2])))
    for metric, m, v in keys:
        _, vals = result.values(m, v, metric)
        vals = vals[np.isfinite(vals)]
        c = comps.get((m, metric, v))
        cells = (m, LABELS.get(v, v), fmt(int(vals.size)),
                 fmt(float(vals.mean())) if vals.size else "–")
        if c is None:
            cells += ("–",) * 5
        else:
            cells += (fmt(c.mean), f"[{fmt(c.low)}, {fmt(c.high)}]", fmt(c.p), fmt(c.p_holm),
                      c.verdict)
        out.setdefault(metric, []).append(cells)
    return out


def _img(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode()}">')


def _html_table(cells: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = []
    for row in cells:
        cls = {"decoys better": ' class="better"', "decoys worse": ' class="worse"'}.get(
            row[-1], "")
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row[:-1])
                    + f"<td{cls}>{html.escape(row[-1])}</td></tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _md_table(cells: list[tuple]) -> list[str]:
    return (["| " + " | ".join(HEADER) + " |", "|---" * len(HEADER) + "|"]
            + ["| " + " | ".join(str(c) for c in row) + " |" for row in cells])


def _panels(out: Path) -> list[tuple[str, bytes]]:
    from dance_tf.evaluation.card_examples import read_examples

    arrays = read_examples(out)
    shown = []
    for key in sorted((k for k in arrays if k.startswith("x__")), key=lambda k: int(k[3:])):
        i = key[3:]
        maps: dict = {}
        for name, sal in arrays.items():
            parts = name.split("__")
            if parts[0] == "map" and parts[1] == i:
                maps.setdefault(parts[2], {})[parts[3]] = sal
        x = arrays[key]
        if maps and x.ndim in (2, 3):
            shown.append((f"input {i}", panel_png(x, maps, f"input {i}")))
    return shown


def _write(path: Path, text: str, mark: str) -> None:
    """Write ``text`` to ``path`` unless ``path`` holds a file this code did not write."""
    if regular_or_absent(path, "report file"):
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        if mark not in head:
            raise EvaluationError(f"{path}: exists and was not written by evaluate_model; "
                                  "not overwritten (move it, or use another out folder)")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(out: Path, log=print) -> Path:
    """Build ``OUT/report.html`` and ``OUT/report.md`` from ``OUT/rows.jsonl``; returns
    the HTML path. A folder without a configuration or rows is an EvaluationError."""
    out = Path(out)
    cfg = read_config(out, CONFIG_FORMAT)
    if cfg is None:
        raise EvaluationError(f"{out}: no evaluate_model configuration (config.json)")
    result = CardResult(load_rows(out, config_digest(cfg)))
    if not result.rows:
        raise EvaluationError(f"{out / ROWS_FILE}: no rows to report")
    tables = table_rows(result)
    direction = {r["metric"]: r["direction"] for r in result.rows}
    n_inputs = len({r["index"] for r in result.rows})
    n_tests = sum(np.isfinite(c.p_holm) for c in result.comparisons)
    intro = (f"{n_inputs} inputs; {len(result.rows)} rows (input × method × variant × "
             f"metric) from {ROWS_FILE}. Paired differences are decoys − variant over the "
             f"inputs both have: mean, 95% t interval, two-sided paired t-test p, and Holm's "
             f"adjusted p over all {n_tests} comparisons (verdict at α = {ALPHA}).")
    body = [f"<h1>Saliency evaluation report</h1><p>{html.escape(intro)}</p>"]
    md = [MARK_MD, "# Saliency evaluation report", "", intro, ""]
    for metric, cells in tables.items():
        title = f"{metric} ({direction[metric]} is better)"
        body += [f"<h2>{html.escape(title)}</h2>", _html_table(cells),
                 _img(boxplot_png(result.rows, metric, direction[metric]),
                      f"box plot of {metric}")]
        md += [f"## {title}", "", *_md_table(cells), ""]
        curve = curves_png(result.rows, metric)
        if curve is not None:
            body.append(_img(curve, f"mean curves of {metric}"))
    panels = _panels(out)
    if panels:
        body.append("<h2>Examples (one colour scale per method row)</h2>")
        body += [_img(data, name) for name, data in panels]
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">" + MARK_HTML
            + f"<title>Saliency evaluation report</title><style>{STYLE}</style>"
            + f"<script>{CHECK_SCRIPT}</script></head><body>" + "\n".join(body)
            + "</body></html>\n")
    _write(out / "report.html", page, MARK_HTML)
    _write(out / "report.md", "\n".join(md) + "\n", MARK_MD)
    log(f"report: {out / 'report.html'} and {out / 'report.md'}")
    return out / "report.html"
