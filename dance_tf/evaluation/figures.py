"""The figures of a report: fidelity box plots and example panels of the saved maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dance_tf.evaluation.variants import SHORT, VARIANTS, method_order


def fidelity_boxplot(out: Path, table: dict, k: str) -> None:
    """``OUT/fidelity_k<K>.png``: SF per variant, one panel per method."""
    from dance_tf.plots.images import save_boxplot

    scores = {SHORT.get(m, m): {VARIANTS[v]: list(table[m][v].values()) for v in VARIANTS
                                if v in table[m]} for m in table}
    save_boxplot(out / f"fidelity_k{int(round(float(k) * 100))}.png", scores,
                 title=f"Fidelity, top {float(k):.0%} kept")


def panels(out: Path, rows: list[dict], task, into: Path | None = None) -> None:
    """``INTO/examples/<id>.png``: the task's drawing of every input with maps saved in
    ``OUT/maps`` (``into``: where to draw [out])."""
    into = out if into is None else into
    maps_dir = out / "maps"
    ids = sorted({r["id"] for r in rows if (maps_dir / f"{r['id']}__{r['method']}__"
                                                      f"{r['variant']}.npy").exists()})
    index = {tid: i for i, tid in enumerate(task.ids)}
    for tid in ids:
        maps: dict = {}
        for m in sorted({r["method"] for r in rows}, key=method_order):
            per = {VARIANTS[v]: np.load(maps_dir / f"{tid}__{m}__{v}.npy") for v in VARIANTS
                   if (maps_dir / f"{tid}__{m}__{v}.npy").exists()}
            if per:
                maps[SHORT.get(m, m)] = per
        if tid in index:
            (into / "examples").mkdir(parents=True, exist_ok=True)
            task.render(into / "examples" / f"{tid}.png", np.asarray(task.inputs[index[tid]]),
                        dict(maps), tid)
