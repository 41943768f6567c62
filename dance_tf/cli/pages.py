"""The HTML pages ``dance-tf explain`` writes: a sentence's words on a background as red as
their saliency (:func:`words_html`, Fig. 3A) and a CSV row's most salient features, ranked
(:func:`features_html`, S8)."""

from __future__ import annotations

import html


def _shade(score: float, top: float) -> str:
    a = 0.0 if top <= 0 else min(1.0, score / top)
    return f"rgba(220, 40, 30, {a:.3f})"


def words_html(tokens, scores, title: str = "") -> str:
    """Words on a red background whose opacity is the word's saliency (Fig. 3A)."""
    top = float(max(scores)) if len(scores) else 0.0
    spans = " ".join(f'<span style="background:{_shade(float(s), top)};padding:2px" '
                     f'title="{float(s):.4g}">{html.escape(t)}</span>'
                     for t, s in zip(tokens, scores))
    return (f"<!doctype html><meta charset='utf-8'><title>DANCE</title>"
            f"<p>{html.escape(title)}</p><p style='font-size:20px'>{spans}</p>\n")


def features_html(names, scores, values, title: str = "", top_k: int = 20) -> str:
    """A table of the ``top_k`` most salient features, ranked (S8)."""
    order = sorted(range(len(names)), key=lambda i: -float(scores[i]))[:top_k]
    top = float(scores[order[0]]) if order else 0.0
    rows = "".join(f"<tr><td>{r + 1}</td><td>{html.escape(names[i])}</td>"
                   f"<td style='background:{_shade(float(scores[i]), top)}'>"
                   f"{float(scores[i]):.4g}</td><td>{float(values[i]):.4g}</td></tr>"
                   for r, i in enumerate(order))
    return (f"<!doctype html><meta charset='utf-8'><title>DANCE</title>"
            f"<p>{html.escape(title)}</p><table border=1 cellpadding=3><tr><th>rank</th>"
            f"<th>feature</th><th>saliency</th><th>scaled value</th></tr>{rows}</table>\n")
