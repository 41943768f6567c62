"""Ranked features of a tabular explanation, without vs with decoys (S8).

S8 compares the feature rankings of a base saliency method with its decoy-enhanced
version. A map (F,) is ranked by |value| (rank 1 = most salient; ties keep column order).
:func:`ranking_table` gives the rows (feature, rank and score per map), :func:`to_markdown`
renders them, :func:`save_ranking_chart` draws one horizontal bar chart per map (top
features, scores scaled to their maximum) side by side; :func:`mean_normalised` averages
the maps of many inputs into one ranking. :func:`ranking_chart` returns the chart as
``(fig, axes)`` for a notebook; nothing here touches matplotlib's global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dance_tf.plots._figure import save, subplots


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each feature by |score|, descending; int (F,)."""
    s = np.abs(np.asarray(scores, dtype=np.float64))
    if s.ndim != 1:
        raise ValueError(f"scores: expected one score per feature (F,), got shape {s.shape}")
    order = np.argsort(-s, kind="stable")
    out = np.empty(len(s), dtype=np.int64)
    out[order] = np.arange(1, len(s) + 1)
    return out


def mean_normalised(maps: np.ndarray) -> np.ndarray:
    """Average importance over many inputs: each map (N, F) is taken as |value| scaled to
    its own maximum (so every input weighs the same), then averaged → (F,) in [0, 1]."""
    m = np.abs(np.asarray(maps, dtype=np.float64))
    if m.ndim != 2:
        raise ValueError(f"maps: expected (N, F) per-input feature scores, got {m.shape}")
    peak = m.max(axis=1, keepdims=True)
    return (m / np.where(peak > 0, peak, 1.0)).mean(axis=0)


def ranking_table(names: Sequence[str], maps: Mapping[str, np.ndarray], top: int | None = None,
                  order_by: str | None = None) -> list[dict]:
    """Rows ``{"feature", "<label> rank", "<label> score"...}`` sorted by one map's rank.

    names: F feature names; maps: label → (F,) saliency, e.g. ``{"without decoys": g,
    "with decoys": d}``; order_by: the label whose ranking orders the rows (default: the
    last map); top: keep the features in the top ``top`` of any map (None: all).
    """
    if not maps:
        raise ValueError("maps: no saliency maps given")
    scores = {label: np.abs(np.asarray(m, dtype=np.float64)) for label, m in maps.items()}
    for label, s in scores.items():
        if s.shape != (len(names),):
            raise ValueError(f"{label}: expected {len(names)} feature scores, got {s.shape}")
    rank = {label: ranks(s) for label, s in scores.items()}
    order_by = order_by or list(maps)[-1]
    if order_by not in maps:
        raise ValueError(f"order_by: {order_by!r} is not one of {list(maps)}")
    keep = np.ones(len(names), bool) if top is None else np.zeros(len(names), bool)
    if top is not None:
        for r in rank.values():
            keep |= r <= top
    rows = []
    for j in np.argsort(rank[order_by], kind="stable"):
        if keep[j]:
            row = {"feature": names[j]}
            for label in maps:
                row[f"{label} rank"] = int(rank[label][j])
                row[f"{label} score"] = float(scores[label][j])
            rows.append(row)
    return rows


def to_markdown(rows: list[dict]) -> str:
    """A Markdown table of :func:`ranking_table` rows (scores to 4 significant digits)."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = [f"{row[k]:.4g}" if isinstance(row[k], float) else str(row[k]) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def ranking_chart(names: Sequence[str], maps: Mapping[str, np.ndarray], top: int = 15,
                  title: str = ""):
    """One horizontal bar chart per map (its own top ``top`` features, most salient at the
    top, |score| scaled to the map's maximum, whose value the axis label gives), side by
    side. Returns ``(fig, axes)`` (axes: (1, len(maps)))."""
    if not maps:
        raise ValueError("maps: no saliency maps given")
    top = min(int(top), len(names))
    fig, axes = subplots(1, len(maps), figsize=(4.6 * len(maps), 0.3 * top + 1.4),
                         squeeze=False)
    for ax, (label, m) in zip(axes[0], maps.items(), strict=True):
        s = np.abs(np.asarray(m, dtype=np.float64))
        if s.shape != (len(names),):
            raise ValueError(f"{label}: expected {len(names)} feature scores, got {s.shape}")
        order = np.argsort(-s, kind="stable")[:top]
        peak = s[order[0]] if s[order[0]] > 0 else 1.0
        ax.barh(np.arange(top)[::-1], s[order] / peak, color="#c0392b")
        ax.set_yticks(np.arange(top)[::-1])
        ax.set_yticklabels([names[j] for j in order], fontsize=8)
        ax.set_xlim(0, 1.05)
        ax.set_xlabel(f"|saliency| / max (max = {s[order[0]]:.3g})")
        ax.set_title(label, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig, axes


def save_ranking_chart(path, names: Sequence[str], maps: Mapping[str, np.ndarray],
                       top: int = 15, title: str = "") -> Path:
    """Write :func:`ranking_chart` (same arguments) to a PNG at ``path``; returns it."""
    fig, _ = ranking_chart(names, maps, top=top, title=title)
    return save(fig, path)
