"""Words coloured by saliency, one row per method (Fig. 3A, §4.3.2).

A text map (T, D) is reduced to one score per word by the mean |value| over the embedding
dimensions (the paper's word saliency, §4.3.2; magnitudes so that signed gradient maps do
not cancel) and each row is scaled to [0, 1] by its own maximum, as Fig. 3A shows
normalised values (the colorbar of the PNG says so). :func:`word_figure` returns
``(fig, axes)`` for a notebook; :func:`save_png` / :func:`save_html` write a PNG and a
self-contained HTML page. Matplotlib's global state (backend, pyplot) is never touched.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dance_tf.plots._figure import figure, save

CMAP = "Reds"


def word_scores(saliency: np.ndarray) -> np.ndarray:
    """(T, D) map → (T,) mean |value| per word; a (T,) input is returned as |value|."""
    s = np.abs(np.asarray(saliency, dtype=np.float64))
    if s.ndim == 2:
        return s.mean(axis=1)
    if s.ndim == 1:
        return s
    raise ValueError(f"saliency: expected (T, D) or (T,), got shape {s.shape}")


def normalise(scores: np.ndarray) -> np.ndarray:
    """Scale non-negative scores to [0, 1] by their maximum (all zeros stay zeros)."""
    scores = np.asarray(scores, dtype=np.float64)
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def _rows(tokens: Sequence[str], rows: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not tokens:
        raise ValueError("tokens: the sentence is empty")
    out = {}
    for label, saliency in rows.items():
        scores = word_scores(saliency)
        if len(scores) != len(tokens):
            raise ValueError(f"{label}: {len(scores)} word scores for {len(tokens)} tokens")
        out[label] = normalise(scores)
    if not out:
        raise ValueError("rows: no saliency maps given")
    return out


def _rgba(value: float):
    import matplotlib

    return matplotlib.colormaps[CMAP](0.85 * float(value))


def save_html(path, tokens: Sequence[str], rows: Mapping[str, np.ndarray], title: str = ""
              ) -> Path:
    """HTML table: one row per method label, each word's background = its saliency.

    tokens: the T words; rows: label → (T, D) or (T,) map, in display order.
    """
    scaled = _rows(tokens, rows)
    lines = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             f"<title>{html.escape(title or 'word saliency')}</title>",
             "<style>body{font-family:sans-serif} td{padding:4px 8px;vertical-align:top}"
             " span{padding:1px 3px;margin:1px;border-radius:3px;display:inline-block}"
             "</style></head><body>"]
    if title:
        lines.append(f"<h3>{html.escape(title)}</h3>")
    lines.append("<table>")
    for label, values in scaled.items():
        spans = []
        for token, value in zip(tokens, values, strict=True):
            r, g, b, _ = _rgba(value)
            fg = "#fff" if value > 0.6 else "#000"
            spans.append(f"<span title='{value:.3f}' style='background:rgb("
                         f"{int(255 * r)},{int(255 * g)},{int(255 * b)});color:{fg}'>"
                         f"{html.escape(token)}</span>")
        lines.append(f"<tr><td><b>{html.escape(label)}</b></td><td>{' '.join(spans)}</td></tr>")
    lines += ["</table>", "</body></html>"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def word_figure(tokens: Sequence[str], rows: Mapping[str, np.ndarray], title: str = "",
                width: float = 10.0, fontsize: int = 11):
    """The words coloured by saliency: a label column, then the words wrapped to ``width``
    inches, one block per row label, and a colorbar (saliency / the row's maximum).

    tokens: the T words; rows: label → (T, D) map or (T,) scores. Returns
    ``(fig, axes)`` (axes: the colorbar's axes, in a list).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    scaled = _rows(tokens, rows)
    fig = figure((width, 1.0), layout=None)
    renderer = FigureCanvasAgg(fig).get_renderer()
    dpi = fig.dpi
    line_h = 1.9 * fontsize / 72 * dpi
    gap = 0.35 * fontsize / 72 * dpi

    def text_width(text, **style):
        probe = fig.text(0, 0, text, fontsize=fontsize, **style)
        w = probe.get_window_extent(renderer).width
        probe.remove()
        return w

    label_w = max(text_width(label, weight="bold") for label in scaled) + 3 * gap
    placed = []  # (x px, y line index, token, value)
    line = 0
    for label, values in scaled.items():
        placed.append((0.0, line, label, None))
        x = label_w
        for token, value in zip(tokens, values, strict=True):
            w = text_width(token)
            if x + w > width * dpi - gap and x > label_w:
                line += 1
                x = label_w
            placed.append((x, line, token, value))
            x += w + 2 * gap
        line += 1.4
    title_lines = 1.2 if title else 0.0
    bar_lines = 2.8
    height_px = (line + title_lines + bar_lines + 0.3) * line_h
    fig.set_size_inches(width, height_px / dpi)
    for x, y, token, value in placed:
        top = height_px - (y + title_lines + 0.8) * line_h
        if value is None:
            fig.text(x / (width * dpi) + 0.005, top / height_px, token, fontsize=fontsize,
                     weight="bold", va="baseline")
        else:
            color = "white" if value > 0.6 else "black"
            fig.text(x / (width * dpi), top / height_px, token, fontsize=fontsize,
                     color=color, va="baseline",
                     bbox={"facecolor": _rgba(value), "edgecolor": "none", "pad": 1.5})
    if title:
        fig.text(0.005, 1 - 0.8 * line_h / height_px, title, fontsize=fontsize + 1,
                 va="baseline")
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cax = fig.add_axes((label_w / (width * dpi), 1.75 * line_h / height_px, 0.35,
                        0.3 * line_h / height_px))
    cmap = matplotlib.colors.ListedColormap([_rgba(v) for v in np.linspace(0, 1, 256)])
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), cax=cax,
                       orientation="horizontal")
    bar.set_label("word saliency / the row's maximum (mean |value| over dimensions)",
                  fontsize=fontsize - 3)
    bar.ax.tick_params(labelsize=fontsize - 3)
    return fig, [cax]


def save_png(path, tokens: Sequence[str], rows: Mapping[str, np.ndarray], title: str = "",
             width: float = 10.0, fontsize: int = 11) -> Path:
    """Write :func:`word_figure` (same arguments) to a PNG at ``path``; returns the path."""
    fig, _ = word_figure(tokens, rows, title, width, fontsize)
    return save(fig, path, dpi=fig.dpi, tight=False)


def save_word_saliency(path, tokens: Sequence[str], rows: Mapping[str, np.ndarray],
                       title: str = "") -> tuple[Path, Path]:
    """Write ``path`` (PNG) and the same name with ``.html``; returns both paths.

    rows: label → (T, D) map or (T,) word scores, e.g. ``{"Gradient": ...,
    "Gradient + decoys": ...}`` (Fig. 3A: one row per method, with and without decoys).
    """
    path = Path(path)
    return (save_png(path.with_suffix(".png"), tokens, rows, title),
            save_html(path.with_suffix(".html"), tokens, rows, title))
