"""The report card's table in REPRODUCTION.md (dance_tf.study.card_tables) against numbers
worked here: means per variant, paired differences, a t-test by scipy and Holm by hand."""

import json

import numpy as np
from scipy import stats

from dance_tf.study.card_tables import card_section
from dance_tf.study.conditions import Condition
from dance_tf.study.rows import Study


def _rows(values: dict, metric: str, direction: str) -> list[dict]:
    return [{"index": i, "method": "gradient", "variant": v, "metric": metric,
             "value": float(x), "direction": direction, "map_seconds": 0.1}
            for v, xs in values.items() for i, x in enumerate(xs)]


def test_card_table_numbers_are_the_hand_worked_ones(tmp_path):
    none = np.array([0.30, 0.50, 0.40, 0.20, 0.60])
    decoys = none + np.array([0.10, 0.12, 0.08, 0.11, 0.09])     # clearly higher
    matched = none + np.array([0.01, -0.02, 0.00, 0.02, -0.01])
    rows = _rows({"none": none, "decoys": decoys, "matched": matched}, "insertion_auc",
                 "higher")
    folder = tmp_path / "toy-card"
    folder.mkdir()
    (folder / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cond = Condition("toy-card", "digits", "card", 5, ("gradient",),
                     variants=("none", "decoys", "matched"), metrics=("insertion_auc",))
    lines: list[str] = []
    card_section(Study(tmp_path, [cond]), [cond], lines)
    row = next(line for line in lines if line.startswith("| toy-card"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "insertion_auc ↑" and cells[2] == "5"
    assert [float(c) for c in cells[3:6]] == [round(x.mean(), 4)
                                              for x in (none, decoys, matched)]
    # two comparisons (decoys − none, decoys − matched): Holm by hand
    p = [stats.ttest_rel(decoys, none).pvalue, stats.ttest_rel(decoys, matched).pvalue]
    order = np.argsort(p)
    holm = np.empty(2)
    holm[order[0]] = min(1.0, 2 * p[order[0]])
    holm[order[1]] = min(1.0, max(holm[order[0]], p[order[1]]))
    diff = decoys - none
    assert cells[6].startswith(f"{diff.mean():+.4f} [")
    for got, want in ((cells[7], holm[0]), (cells[10], holm[1])):
        assert got == ("< 0.0001" if want < 1e-4 else f"{want:.4f}")
    assert cells[8] == "decoys better"


def test_no_card_rows_no_section(tmp_path):
    cond = Condition("none-card", "digits", "card", 5, ("gradient",), metrics=("road",))
    lines: list[str] = []
    card_section(Study(tmp_path, [cond]), [cond], lines)
    assert lines == []
