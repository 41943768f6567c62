"""The hours left of the pre-registered run, checked against sums written out by hand from
§4's and §8's numbers (images per claim, floors, cost factors), not from the schedule the
code walks."""

from __future__ import annotations

import json

import pytest

from dance_tf.study import prereg_budget as pb
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_tables as pt

L0, L1, L2 = plan.NETS


def _write(root, net, block, images, seconds=1.0, skip=()):
    """Rows of ``block`` on ``net``: every variant of each image in ``images`` (one metric
    row per map, map_seconds = seconds), but for (image, variant) pairs in ``skip``."""
    folder = plan.folder(root, net, block)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "rows.jsonl", "a") as f:
        for i in images:
            for v in plan.BLOCKS[block].variants:
                if (i, v) in skip:
                    continue
                for metric in plan.METRICS:
                    f.write(json.dumps({"index": i, "input": f"digest{i}", "method": "m",
                                        "variant": v, "metric": metric, "value": 1.0,
                                        "direction": "lower", "config": "cfg",
                                        "map_seconds": seconds}) + "\n")


def _sittings(root, walls, tail=""):
    path = root / "preregistered" / "runs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"wall_seconds": w}) + "\n" for w in walls) + tail)


def test_hours_left_by_hand(tmp_path):
    """Lite0 gradient: images 0–9 done but image 4 lacks its noise map (so 4 images count
    as done in a row: a turn resumes at image 4); 2 s per map. Nothing else measured."""
    _write(tmp_path, L0, "gradient", range(10), seconds=2.0, skip={(4, "noise")})
    _sittings(tmp_path, [100.0, 50.0], tail='{"wall_sec')  # a line cut by a kill
    res = pb.hours_left(tmp_path, pt.load(tmp_path))

    n_var = len(plan.BLOCKS["gradient"].variants)             # 7 maps an image
    maps = 10 * n_var * 2.0 - 2.0                              # every row's map, once
    factor = 150.0 / maps
    assert res["overhead"] == pytest.approx(factor)
    measured = n_var * 2.0 * factor                            # 9 complete images, 14 s each
    assert res["rates"][(L0, "gradient")][0] == pytest.approx(measured)
    assert res["rates"][(L0, "gradient")][1] == "measured on 9 images"

    def rate(net, block):
        if block == "gradient":
            return measured * {L0: 1.0, L1: 1.8, L2: 3.0}[net]
        return {"smoothgrad": 224, "integrated_gradients": 160,
                "expected_gradients": 172}[block] * {L0: 1.0, L1: 1.8, L2: 3.0}[net]

    floors = {L0: 80, L1: 40, L2: 40}
    n = {L0: {"gradient": 103, "smoothgrad": 103, "integrated_gradients": 103,
              "expected_gradients": 103},
         L1: {"gradient": 103, "smoothgrad": 65, "integrated_gradients": 80,
              "expected_gradients": 40}}
    n[L2] = n[L1]
    step1 = sum((floors[net] - (4 if (net, b) == (L0, "gradient") else 0)) * rate(net, b)
                for net in plan.NETS for b in plan.BLOCKS) / 3600
    step4 = sum((n[net][b] - floors[net]) * rate(net, b)
                for net in plan.NETS for b in plan.BLOCKS) / 3600
    assert res["steps"][1] == pytest.approx(step1)
    assert res["steps"][4] == pytest.approx(step4)
    # no packing row yet: §8's planned hours, flagged as planned
    assert res["steps"][2] == 8.4 and res["steps"][3] == 16.3
    assert res["planned"] == {1: False, 2: True, 3: True, 4: False}


def test_a_net_measured_on_one_block_keeps_its_own_rate(tmp_path):
    """Lite1's gradient measured: its own rate, not Lite0's × 1.8; no sittings: factor 1."""
    _write(tmp_path, L0, "smoothgrad", range(2), seconds=3.0)
    _write(tmp_path, L1, "gradient", range(3), seconds=1.0)
    r = pb.hours_left(tmp_path, pt.load(tmp_path))["rates"]
    n_sg, n_g = (len(plan.BLOCKS[b].variants) for b in ("smoothgrad", "gradient"))
    assert r[(L1, "gradient")] == (pytest.approx(n_g * 1.0), "measured on 3 images")
    assert r[(L2, "smoothgrad")] == (pytest.approx(n_sg * 3.0 * 3.0), "Lite0 × 3.0")
    assert r[(L0, "gradient")] == (pytest.approx(119.0), "§8 plan × 1.0")


def test_a_running_sitting_never_makes_maps_cheaper_than_measured(tmp_path):
    """Rows of a sitting still running have no wall time yet: the factor stays ≥ 1."""
    _write(tmp_path, L0, "gradient", range(5), seconds=10.0)
    _sittings(tmp_path, [20.0])
    assert pb.hours_left(tmp_path, pt.load(tmp_path))["overhead"] == 1.0


def test_lines_name_every_step_and_rate(tmp_path):
    _write(tmp_path, L0, "gradient", range(1))
    text = "\n".join(pb.lines(tmp_path, pt.load(tmp_path)))
    assert "step 1 (claims to the floors)" in text and "≤ 16.3 h (§8 plan)" in text
    assert "measured on 1 image)" in text and text.count("| Lite") == 3


def test_section_only_while_the_run_goes_on(tmp_path):
    assert pb.section(tmp_path) == []                          # nothing has run
    _write(tmp_path, L0, "gradient", range(1))
    assert pb.section(tmp_path)[0] == "### What is left of the pre-registered run"
    (tmp_path / "preregistered" / "stopped.json").write_text('{"date": "d", "reason": "r"}')
    assert pb.section(tmp_path) == []                          # stopped: nothing is left
