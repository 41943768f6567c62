"""The pre-registered study's part of REPRODUCTION.md after the stop (issue 26): the
exploratory scores, the costs, the forest plot and the report's order, on rows written here
and checked against numbers worked by hand (no model runs)."""

import json

import numpy as np
import pytest

from dance_tf.study import prereg_cost, prereg_exploratory, prereg_report, report
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_tables as pt
from tests.study.test_prereg_tables import _pair, _stop, _write

L0, L1, L2 = plan.NETS


def _rows(folder_rows, block, variant, metric, values, seconds=1.0, decoys=0):
    for i, x in enumerate(values):
        folder_rows.append({"index": i, "variant": variant, "metric": metric,
                            "value": None if x is None else float(x),
                            "map_seconds": seconds + i, "n_decoys": decoys,
                            "method": plan.BLOCKS[block].method, "input": f"digest{i}",
                            "direction": "lower", "config": "cfg"})


def test_exploratory_means_are_over_the_images_every_variant_has():
    """IG block, SF 10 %: image 1 lacks a finite 'matched' score and image 3 has no
    'noise' row, so every mean is over images 0, 2, 4 (worked by hand)."""
    rows = []
    vals = {"none": [1, 2, 3, 4, 5], "decoys": [0, 2, 1, 9, 2], "mean": [1, 1, 1, 1, 1],
            "constant": [2, 2, 2, 2, 2], "noise": [3, 3, 3, None, 3],
            "matched": [4, float("nan"), 5, 6, 6]}
    for v, xs in vals.items():
        _rows(rows, "integrated_gradients", v, "sf_k10", xs)
    rows = [r for r in rows if not (r["variant"] == "noise" and r["index"] == 3)]
    n, means, diff = prereg_exploratory.paired_means(
        rows, "sf_k10", plan.BLOCKS["integrated_gradients"].variants, upto=80)
    assert n == 3
    assert means["none"] == pytest.approx((1 + 3 + 5) / 3)
    assert means["decoys"] == pytest.approx((0 + 1 + 2) / 3)
    assert means["matched"] == pytest.approx((4 + 5 + 6) / 3)
    assert diff.tolist() == [-1, -2, -3]
    # images at or beyond the block's n are not counted
    assert prereg_exploratory.paired_means(
        rows, "sf_k10", plan.BLOCKS["integrated_gradients"].variants, upto=3)[0] == 2


def test_exploratory_section_only_after_the_stop_and_marks_the_claims(tmp_path):
    d, p = _pair(40, -0.5, 1.0, 4)
    gradient = plan.BLOCKS["gradient"].variants
    values = {v: list(p + 0.1 * k) for k, v in enumerate(gradient)}
    values["decoys"] = list(d)
    _write(tmp_path, L1, "gradient", values, metric="sf_k20")
    _write(tmp_path, L1, "gradient", values, metric="sf_k40")
    assert prereg_exploratory.section(tmp_path) == []
    _stop(tmp_path)
    text = "\n".join(prereg_exploratory.section(tmp_path))
    row20 = next(line for line in text.splitlines() if line.startswith("| Lite1 | SF 20 %"))
    row40 = next(line for line in text.splitlines() if line.startswith("| Lite1 | SF 40 %"))
    assert "(**C4**)" in row20 and "**" not in row40      # SF 40 % is no gradient claim
    diff = d - p
    assert f"{diff.mean():+.3f} ± {diff.std(ddof=1) / np.sqrt(40):.3f}" in row20
    assert f"| 40 | {p.mean():.3f} | {d.mean():.3f} |" in row20
    assert "SmoothGrad" not in text                      # no rows, no table


def test_cost_reads_the_sittings_and_the_median_map(tmp_path):
    base = tmp_path / "preregistered"
    base.mkdir()
    (base / "runs.jsonl").write_text(
        json.dumps({"wall_seconds": 3600.0, "commit": "fafd5029c8f4"}) + "\n"
        + json.dumps({"wall_seconds": 1800.0, "commit": "fafd5029c8f4"}) + "\n"
        + '{"wall_seconds": 99')                          # a line cut by a kill
    (base / "packing-runs.jsonl").write_text(json.dumps({"wall_seconds": 720.0}) + "\n")
    runs = prereg_cost.sittings(tmp_path)
    assert runs["claims"] == (2, pytest.approx(1.5))
    assert runs["packing"] == (1, pytest.approx(0.2))
    rows = []
    for metric in ("sf_k20", "sf_k40"):                  # one map, scored twice
        _rows(rows, "gradient", "decoys", metric, [1.0] * 5, seconds=10.0, decoys=200)
        _rows(rows, "gradient", "none", metric, [1.0] * 4, seconds=0.5)
    per = prereg_cost.map_seconds(rows)
    assert per["decoys"] == (12.0, 5, 200)              # median of 10, 11, ..., 14
    assert per["none"] == (pytest.approx(2.0), 4, 0)     # median of 0.5, 1.5, 2.5, 3.5
    folder = plan.folder(tmp_path, L0, "gradient")
    folder.mkdir(parents=True)
    (folder / "images.json").write_text(json.dumps({"ids": [f"i{i}" for i in range(5)]}))
    (folder / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    text = "\n".join(prereg_cost.section(tmp_path))
    assert "**1.7 h**" in text and "1.5 h in 2 runs" in text and "fafd502" in text
    assert "| Lite0 | gradient | 2.00 | 12.00 (200) | – |" in text


def test_report_leads_with_the_confirmatory_claims(tmp_path):
    root = tmp_path / "reproduction"
    c1 = _pair(65, -0.6, 1.0, 5)
    _write(root, L1, "smoothgrad", {"decoys": c1[0], "none": c1[1]})
    out = tmp_path / "REPRODUCTION.md"
    before = report.write(root, [], out, 0, "cmd")
    assert before.index("## Pre-registered ImageNet claims") < before.index("## Protocol")
    assert "withheld" in before and "![confirmatory" not in before
    _stop(root)
    (root / prereg_report.READING).write_text("## Reading\n\nhand-written words\n")
    after = report.write(root, [], out, 0, "cmd")
    order = [after.index(s) for s in ("## Pre-registered ImageNet claims", "![confirmatory",
                                      "hand-written words", "## What the pre-registered "
                                      "run cost", "## Protocol")]
    assert order == sorted(order)
    png = root / "figures" / prereg_report.FIGURE
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = pt.analysis(root)
    e = next(x for x in res["confirmatory"] if (x["claim"], x["net"]) == ("C1", L1))
    assert e["verdict"] == "decoys help"          # the figure had a point to draw
