"""The figures of the evaluate_model report as PNG bytes (embedded in the HTML page):
box plots per metric, mean deletion / insertion curves, example panels
(:mod:`dance_tf.plots.images` draws the box plots and panels)."""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np

from dance_tf.evaluation.variants import SHORT, VARIANTS

LABELS = {**VARIANTS, "matched": "matched compute, mean", "matched_range":
          "matched compute, range", "matched_vargrad": "matched compute, VarGrad"}
ORDER = ("none", "decoys", "matched", "matched_range", "mean", "constant", "noise",
         "covering")


def variant_order(variant: str) -> tuple:
    """Sort key: without decoys, with decoys, the matched variants, the ablations, then
    any other by name."""
    return (ORDER.index(variant) if variant in ORDER else len(ORDER), variant)


def png(fig) -> bytes:
    """The figure as PNG bytes (Agg renderer; pyplot untouched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def boxplot_png(rows: list[dict], metric: str, direction: str) -> bytes:
    """Per-input scores of ``metric`` per method (groups) and variant (colours)."""
    from dance_tf.plots.images import boxplot

    scores: dict = defaultdict(lambda: defaultdict(list))
    for r in sorted(rows, key=lambda r: variant_order(r["variant"])):
        if r["metric"] == metric and r["value"] is not None:
            scores[SHORT.get(r["method"], r["method"])][LABELS.get(r["variant"],
                                                                   r["variant"])].append(
                r["value"])
    fig, _ = boxplot({m: dict(v) for m, v in scores.items()},
                     ylabel=f"{metric} ({direction} is better)", title=metric)
    return png(fig)


def curves_png(rows: list[dict], metric: str) -> bytes | None:
    """Mean curve (over inputs) of each method × variant whose rows carry a ``curve``;
    None when none does."""
    from dance_tf.plots._figure import subplots

    curves: dict = defaultdict(list)
    for r in rows:
        if r["metric"] == metric and r.get("curve"):
            curves[(r["method"], r["variant"])].append(r["curve"])
    curves = {k: v for k, v in curves.items() if len({len(c) for c in v}) == 1}
    if not curves:
        return None
    fig, ax = subplots(figsize=(5.5, 3.6))
    for (m, v), cs in sorted(curves.items(), key=lambda kv: (kv[0][0], variant_order(kv[0][1]))):
        mean = np.mean(np.asarray(cs, np.float64), axis=0)
        ax.plot(np.linspace(0, 1, len(mean)), mean,
                label=f"{SHORT.get(m, m)}, {LABELS.get(v, v)}")
    ax.set_xlabel("fraction of features removed / inserted")
    ax.set_ylabel("target score")
    ax.set_title(f"{metric}: mean curve over inputs", fontsize=10)
    ax.legend(fontsize=7)
    return png(fig)


def panel_png(x: np.ndarray, maps: dict, title: str) -> bytes:
    """One example: the input, then per method a row of its maps, every map of a row on
    one colour scale (``dance_tf.plots.images.panels``, scale="row").
    maps: {method: {variant: map}}."""
    from dance_tf.plots.images import panels

    named = {SHORT.get(m, m): {LABELS.get(v, v): per[v] for v in sorted(per,
                                                                       key=variant_order)}
             for m, per in maps.items()}
    image = x if x.ndim == 3 else x[..., None] if x.ndim == 2 else None
    if image is None:
        raise ValueError("panels: only image inputs (H, W[, C]) are drawn")
    fig, _ = panels(image, named, title=title)
    return png(fig)
