"""Figures for image explanations: Fig.-2-style panels and fidelity box plots (§4.3.1).

Matplotlib is imported lazily with the Agg backend; every function writes a PNG and
returns its path. Maps are reduced over channels by mean |value| and scaled to [0, 1] by
their 99th percentile for display only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_tf.plots._figure import pyplot as _plt
from dance_tf.plots._figure import save as _save


def display_map(saliency: np.ndarray) -> np.ndarray:
    """(H, W[, C]) map → (H, W) in [0, 1]: mean |value| over channels, 99th-percentile scaled."""
    s = np.abs(np.asarray(saliency, np.float32))
    if s.ndim == 3:
        s = s.mean(axis=-1)
    top = float(np.percentile(s, 99)) or float(s.max()) or 1.0
    return np.clip(s / top, 0.0, 1.0)


def display_image(image: np.ndarray, value_range=None) -> np.ndarray:
    """(H, W, C) input → displayable array in [0, 1] (greyscale squeezed)."""
    x = np.asarray(image, np.float32)
    lo, hi = (x.min(), x.max()) if value_range is None else value_range
    lo, hi = np.broadcast_to(lo, x.shape), np.broadcast_to(hi, x.shape)
    x = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return x[..., 0] if x.shape[-1] == 1 else np.clip(x, 0, 1)


def save_panels(path, image: np.ndarray, maps: dict, title: str = "",
                value_range=None) -> Path:
    """One row per base method: input | without decoys | with decoys | difference (Fig. 2A).

    maps: {method: {"without decoys": (H, W[, C]) map, "with decoys": map, ...}}; extra
    variants are drawn as extra columns before the difference. The difference is
    display(with) − display(without) on a diverging scale.
    """
    plt = _plt()
    rows = list(maps.items())
    variants = []
    for _, per in rows:
        variants += [v for v in per if v not in variants]
    ncol = 1 + len(variants) + 1
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.2 * ncol, 2.3 * len(rows)),
                             squeeze=False)
    shown = display_image(image, value_range)
    for r, (method, per) in enumerate(rows):
        axes[r, 0].imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        axes[r, 0].set_ylabel(method, fontsize=9)
        for c, variant in enumerate(variants, start=1):
            if variant in per:
                axes[r, c].imshow(display_map(per[variant]), cmap="hot", vmin=0, vmax=1)
            if r == 0:
                axes[r, c].set_title(variant, fontsize=9)
        if "with decoys" in per and "without decoys" in per:
            diff = display_map(per["with decoys"]) - display_map(per["without decoys"])
            axes[r, -1].imshow(diff, cmap="coolwarm", vmin=-1, vmax=1)
        if r == 0:
            axes[r, 0].set_title("input", fontsize=9)
            axes[r, -1].set_title("difference", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def save_boxplot(path, scores: dict, ylabel: str = "fidelity SF (lower is better)",
                 title: str = "") -> Path:
    """Box plot of per-input scores per method and variant (Fig. 2B / 3B / 4B–D).

    scores: {method: {variant: (N,) scores}}.
    """
    plt = _plt()
    methods = list(scores)
    variants = []
    for per in scores.values():
        variants += [v for v in per if v not in variants]
    fig, ax = plt.subplots(figsize=(1.0 + 1.1 * len(methods) * len(variants) / 2, 3.6))
    width = 0.8 / max(1, len(variants))
    colors = plt.get_cmap("tab10")
    for j, variant in enumerate(variants):
        data = [np.asarray(scores[m].get(variant, []), float) for m in methods]
        pos = [i + (j - (len(variants) - 1) / 2) * width for i in range(len(methods))]
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True,
                        showfliers=False)
        for box in bp["boxes"]:
            box.set_facecolor(colors(j))
        ax.plot([], [], color=colors(j), linewidth=6, label=variant)
    ax.set_xticks(range(len(methods)))
    ax.set_xticklabels(methods, fontsize=9)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)
