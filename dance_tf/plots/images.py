"""Figures for image explanations: Fig.-2-style panels and fidelity box plots (§4.3.1).

:func:`panels` and :func:`boxplot` return ``(fig, axes)`` (a ``matplotlib.figure.Figure``,
shown by a notebook, saved only when asked); :func:`save_panels` and :func:`save_boxplot`
draw the same figures into a PNG and return its path. Matplotlib is imported lazily and
its global state (backend, pyplot's figure list) is never touched.

How a panel row reads: each map is shown as its mean |value| over channels (saliency
units); every map of a row shares one colour scale (0 to the row's largest 99th
percentile, ``scale="row"``, so magnitudes can be compared along the row) with its
colorbar; the last column is the difference |with decoys| − |without decoys| in the same
units, on a diverging colour map centred at 0 (red: larger with decoys, blue: larger
without), with its own colorbar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_tf.plots._figure import save as _save
from dance_tf.plots._figure import subplots as _subplots

WITH, WITHOUT = "with decoys", "without decoys"
DIFF_TITLE = "with − without"
MAP_CMAP, DIFF_CMAP = "hot", "RdBu_r"


def magnitude(saliency: np.ndarray) -> np.ndarray:
    """(H, W[, C]) map → (H, W) mean |value| over channels, float32 (saliency units)."""
    s = np.abs(np.asarray(saliency, np.float32))
    return s.mean(axis=-1) if s.ndim == 3 else s


def display_map(saliency: np.ndarray) -> np.ndarray:
    """(H, W[, C]) map → (H, W) in [0, 1]: mean |value| over channels, 99th-percentile scaled."""
    s = magnitude(saliency)
    top = float(np.percentile(s, 99)) or float(s.max()) or 1.0
    return np.clip(s / top, 0.0, 1.0)


def display_image(image: np.ndarray, value_range=None) -> np.ndarray:
    """(H, W, C) input → displayable array in [0, 1] (greyscale squeezed)."""
    x = np.asarray(image, np.float32)
    lo, hi = (x.min(), x.max()) if value_range is None else value_range
    lo, hi = np.broadcast_to(lo, x.shape), np.broadcast_to(hi, x.shape)
    x = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.clip(x[..., 0] if x.shape[-1] == 1 else x, 0, 1)


def _top(values: np.ndarray, percentile: float) -> float:
    v = np.abs(values[np.isfinite(values)])
    if v.size == 0:
        return 1.0
    return float(np.percentile(v, percentile)) or float(v.max()) or 1.0


def describe(title: str = "", prediction=None, label=None, class_names=None) -> str:
    """A title line: ``title: predicted NAME (p = 0.93), true label NAME``.

    prediction: (class index, probability) or a class index; label: the true class
    (index or name) when known; class_names: index → name.
    """
    def name(c):
        if class_names is not None and isinstance(c, (int, np.integer)) \
                and 0 <= int(c) < len(class_names):
            return f"{int(c)} ({class_names[int(c)]})"
        return str(c)

    parts = []
    if prediction is not None:
        if isinstance(prediction, (tuple, list)):
            c, p = prediction
            parts.append(f"predicted {name(c)} (p = {float(p):.3f})")
        else:
            parts.append(f"predicted {name(prediction)}")
    if label is not None:
        parts.append(f"true label {name(label)}")
    text = ", ".join(parts)
    return f"{title}: {text}" if title and text else (title or text)


def panels(image: np.ndarray, maps: dict, title: str = "", value_range=None, *,
           scale: str = "row", percentile: float = 99.0, prediction=None, label=None,
           class_names=None):
    """One row per base method: input | one column per variant | with − without (Fig. 2A).

    image: (H, W, C) input; maps: {method: {"without decoys": (H, W[, C]) map,
    "with decoys": map, other variants: map}}; value_range: the image's (lo, hi) for
    display; scale: "row" (one colour scale per row, the default) or "panel" (each map
    its own); prediction / label / class_names: added to the title (:func:`describe`).
    The difference column is drawn only if a row has both "with" and "without decoys".
    Returns ``(fig, axes)``, axes a 2-D array (rows × columns).
    """
    if scale not in ("row", "panel"):
        raise ValueError(f"scale: expected 'row' or 'panel', got {scale!r}")
    if not maps:
        raise ValueError("maps: no saliency maps given")
    rows = list(maps.items())
    variants: list[str] = []
    for _, per in rows:
        variants += [v for v in per if v not in variants]
    with_diff = any(WITH in per and WITHOUT in per for _, per in rows)
    ncol = 1 + len(variants) + int(with_diff)
    fig, axes = _subplots(len(rows), ncol, figsize=(2.5 * ncol + 0.6, 2.4 * len(rows) + 0.5),
                          squeeze=False)
    shown = display_image(image, value_range)
    for r, (method, per) in enumerate(rows):
        axes[r, 0].imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        axes[r, 0].set_ylabel(method, fontsize=9)
        mags = {v: magnitude(m) for v, m in per.items()}
        row_top = max(_top(m, percentile) for m in mags.values()) if mags else 1.0
        last = None
        for c, variant in enumerate(variants, start=1):
            ax = axes[r, c]
            if r == 0:
                ax.set_title(variant, fontsize=9)
            if variant not in mags:
                ax.set_axis_off()
                continue
            top = row_top if scale == "row" else _top(mags[variant], percentile)
            last = ax.imshow(mags[variant], cmap=MAP_CMAP, vmin=0.0, vmax=top)
            if scale == "panel":
                fig.colorbar(last, ax=ax, shrink=0.8)
        if scale == "row" and last is not None:
            bar = fig.colorbar(last, ax=list(axes[r, 1:1 + len(variants)]), shrink=0.8,
                               pad=0.02)
            bar.set_label("mean |saliency|", fontsize=7)
            bar.ax.tick_params(labelsize=7)
        if with_diff:
            ax = axes[r, -1]
            if r == 0:
                ax.set_title(DIFF_TITLE, fontsize=9)
            if WITH in mags and WITHOUT in mags:
                diff = mags[WITH] - mags[WITHOUT]
                lim = _top(diff, percentile)
                im = ax.imshow(diff, cmap=DIFF_CMAP, vmin=-lim, vmax=lim)
                bar = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
                bar.set_label("with − without", fontsize=7)
                bar.ax.tick_params(labelsize=7)
            else:
                ax.set_axis_off()
        if r == 0:
            axes[r, 0].set_title("input", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    text = describe(title, prediction, label, class_names)
    if text:
        fig.suptitle(text, fontsize=10)
    return fig, axes


def save_panels(path, image: np.ndarray, maps: dict, title: str = "",
                value_range=None, **options) -> Path:
    """Write :func:`panels` (same arguments; ``options`` are its keyword options) to a PNG
    at ``path``; returns the path."""
    fig, _ = panels(image, maps, title=title, value_range=value_range, **options)
    return _save(fig, path)


def boxplot(scores: dict, ylabel: str = "fidelity SF (lower is better)", title: str = ""):
    """Box plot of per-input scores per method and variant (Fig. 2B / 3B / 4B–D).

    scores: {method: {variant: (N,) scores}}. Each box shows its median as a black line
    (visible on every fill colour). Returns ``(fig, ax)``.
    """
    import matplotlib

    methods = list(scores)
    variants: list[str] = []
    for per in scores.values():
        variants += [v for v in per if v not in variants]
    fig, ax = _subplots(figsize=(1.6 + 1.1 * len(methods) * max(1, len(variants)) / 2, 3.8))
    width = 0.8 / max(1, len(variants))
    colors = matplotlib.colormaps["tab10"]
    for j, variant in enumerate(variants):
        data = [np.asarray(scores[m].get(variant, []), float) for m in methods]
        data = [d[np.isfinite(d)] for d in data]
        pos = [i + (j - (len(variants) - 1) / 2) * width for i in range(len(methods))]
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True,
                        showfliers=False,
                        medianprops={"color": "black", "linewidth": 1.8},
                        whiskerprops={"color": "0.3"}, capprops={"color": "0.3"})
        for box in bp["boxes"]:
            box.set_facecolor(colors(j))
            box.set_edgecolor("0.2")
        ax.plot([], [], color=colors(j), linewidth=6, label=variant)
    ax.set_xticks(range(len(methods)))
    ax.set_xticklabels(methods, fontsize=9)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="best", title="black line: median", title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    return fig, ax


def save_boxplot(path, scores: dict, ylabel: str = "fidelity SF (lower is better)",
                 title: str = "") -> Path:
    """Write :func:`boxplot` to a PNG at ``path``; returns the path."""
    fig, _ = boxplot(scores, ylabel=ylabel, title=title)
    return _save(fig, path)
