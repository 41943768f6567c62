"""The pre-registered study's part of REPRODUCTION.md (issue 26), in the order a reader
needs it: the confirmatory claims with their picture and the hand-written reading, the
packing choice, the exploratory scores of the same maps, and what the run cost (hours left
while it goes on). Before ``--stop-preregistered`` only progress and costs appear (§4)."""

from __future__ import annotations

from pathlib import Path

from dance_tf.study import (
    prereg_budget,
    prereg_cost,
    prereg_exploratory,
    prereg_packing,
    prereg_tables,
)

#: the hand-written reading of the confirmatory results, kept beside the rows
READING = "PREREGISTERED_READING.md"
FIGURE = "prereg_confirmatory.png"


def lines(root, figures) -> list[str]:
    """Markdown lines ([] without ``ROOT/preregistered``); after the stop also writes the
    forest plot to ``figures`` / :data:`FIGURE`."""
    root = Path(root)
    if not (root / "preregistered").is_dir():
        return []
    data = prereg_tables.load(root)     # once: every part below reads the same rows
    out = prereg_tables.section(root, data)
    if prereg_tables.stopped(root) is not None:
        from dance_tf.study.prereg_figure import forest

        res = prereg_tables.analysis(root, data=data)
        path = forest(res["confirmatory"], Path(figures) / FIGURE)
        out += ["![confirmatory differences with 95 % intervals]"
                f"({path.relative_to(root.parent).as_posix()})", ""]
        reading = root / READING
        if reading.is_file():
            out += [reading.read_text(encoding="utf-8").rstrip(), ""]
    return (out + prereg_packing.section(root) + prereg_exploratory.section(root, data)
            + prereg_cost.section(root, data) + prereg_budget.section(root, data))
