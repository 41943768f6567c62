"""Shared matplotlib plumbing: figures made without pyplot, saved only when asked.

Figures are ``matplotlib.figure.Figure`` objects built directly, so nothing here touches
matplotlib's global state: no backend switch (``matplotlib.use`` is never called), no
figure registered with pyplot, so a notebook's backend keeps working and a figure returned
to it displays there. :func:`save` writes a figure to a file through the Agg renderer,
whole and never through a link (:func:`dance_tf.single_file.write_bytes`).
"""

from __future__ import annotations

from pathlib import Path


def figure(figsize=(6.4, 4.8), layout: str | None = "constrained"):
    """A new ``matplotlib.figure.Figure`` (not registered with pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=layout)


def subplots(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.8), squeeze: bool = True,
             layout: str | None = "constrained", **kwargs):
    """``(fig, axes)`` like ``pyplot.subplots``, without pyplot."""
    fig = figure(figsize, layout)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **kwargs)
    return fig, axes


def save(fig, path, dpi: int = 110, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` (parents created; format from the suffix) through a
    temporary name, never through a symbolic link; returns the path.

    tight: run ``tight_layout`` first when the figure has no layout engine of its own.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dance_tf import single_file

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if tight and fig.get_layout_engine() is None:
        fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format=path.suffix.lstrip(".") or None)
    return single_file.write_bytes(path, buffer.getvalue())


class _NoPyplot:
    """The few pyplot calls older callers use (``subplots``, ``figure``, ``close``,
    ``get_cmap``), answered without pyplot or a backend switch."""

    @staticmethod
    def subplots(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.8), squeeze: bool = True,
                 **kwargs):
        return subplots(nrows, ncols, figsize=figsize, squeeze=squeeze, layout=None, **kwargs)

    @staticmethod
    def figure(figsize=(6.4, 4.8), **_):
        return figure(figsize, layout=None)

    @staticmethod
    def close(fig=None) -> None:
        return None

    @staticmethod
    def get_cmap(name: str):
        import matplotlib

        return matplotlib.colormaps[name]


def pyplot() -> _NoPyplot:
    """A pyplot stand-in for existing callers (kept for ``benchmarks/packing_figure.py``);
    its figures are plain ``Figure`` objects, saved with :func:`save` (``tight=True``)."""
    return _NoPyplot()
