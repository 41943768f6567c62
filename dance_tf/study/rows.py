"""The rows the study's report reads: every condition folder's rows loaded
(:class:`Study`), the fidelity score of each input per (method, variant), and the paired
comparison of two variants over the inputs both have."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dance_tf.study import card_tables, sanity_run
from dance_tf.study.conditions import Condition
from dance_tf.study.folders import load_rows
from dance_tf.study.verdicts import compare, halves


def fidelity_scores(rows, k: str) -> dict:
    """{(method, variant): {id: SF at K}} of fidelity rows; k = ``continuous``: the
    continuous fidelity of the rows that have it."""
    out: dict = defaultdict(dict)
    for r in rows:
        if r["variant"].startswith("attack:"):
            continue
        if k == "continuous" and "sf_continuous" in r:
            out[(r["method"], r["variant"])][r["id"]] = float(r["sf_continuous"])
        elif k in r["sf"]:
            out[(r["method"], r["variant"])][r["id"]] = float(r["sf"][k])
    return out


def paired(scores, ours_key, base_key, ids):
    """:func:`~dance_tf.study.verdicts.compare` of ``scores[ours_key]`` against
    ``scores[base_key]`` over the ``ids`` both have (None when fewer than 2)."""
    a, b = scores.get(ours_key, {}), scores.get(base_key, {})
    common = [i for i in ids if i in a and i in b]
    if len(common) < 2:
        return None
    return compare([a[i] for i in common], [b[i] for i in common])


def _note(msg: str) -> None:
    """A note about the rows (e.g. a stale working file), on stderr beside the report."""
    import sys

    print(msg, file=sys.stderr, flush=True)


class Study:
    """The loaded rows of every condition folder under ``root``."""

    def __init__(self, root: Path, conds: list[Condition]):
        self.root = Path(root)
        self.conds = conds
        self.data = {}
        #: every second-half comparison reported, (label, Comparison), for ``holm``
        self.family: list = []
        for c in conds:
            if c.group == "sanity":
                rows = sanity_run.load(self.root / c.folder)
                if rows:
                    self.data[c.name] = ({}, rows)
                continue
            if c.group == "prereg":   # its own section: dance_tf.study.prereg_tables
                continue
            if c.group == "card":
                rows = card_tables.load(self.root / c.folder)
                if rows:
                    self.data[c.name] = ({}, rows)
                continue
            cfg, rows = load_rows(self.root / c.folder, log=_note)
            wanted = set(c.variants) | {f"attack:{a}" for a in c.attacks}
            if any(r["variant"] in wanted and r["method"] in c.methods for r in rows):
                self.data[c.name] = (cfg, rows)

    def ids(self, cond: Condition) -> list[str]:
        """The condition's input ids in task order (by the rows' ``index``, which is the
        task's order for ``half=all``)."""
        rows = self.data[cond.name][1]
        # an input keeps its first index: a folder filled by a full run and later by a
        # half-only run numbers the same input differently
        ordered = [i for _, i in sorted({(r["index"], r["id"]) for r in rows})]
        return list(dict.fromkeys(ordered))

    def split(self, cond: Condition) -> tuple[list[str], list[str]]:
        """Halves of the inputs with rows (an input's half is fixed by its id's hash, so it
        does not depend on how many inputs have run; ImageNet runs in file order)."""
        return halves(self.ids(cond))
