"""The pre-registered study's section (dance_tf.study.prereg_tables) against numbers worked
here: paired t-tests by scipy.stats.ttest_rel, Holm by hand, power by simulation, on rows
written by the test (no model runs)."""

import json

import numpy as np
import pytest
from scipy import stats

from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_tables as pt
from tests.study.conftest import holm_by_hand

L0, L1, L2 = plan.NETS
VERDICT_WORDS = ("decoys help", "decoys hurt", "no difference shown", "not evaluated")


def _row(i, block, variant, metric, value):
    return {"index": i, "input": f"digest{i}", "method": plan.BLOCKS[block].method,
            "variant": variant, "metric": metric,
            "value": None if value is None else float(value), "direction": "lower",
            "target": 417, "label": None, "n_decoys": 50, "map_seconds": 1.0,
            "config": "cfg"}


def _write(root, net, block, values, metric="sf_k20", ids=None, tail=""):
    """Rows of {variant: [value or None per image]} in ``net``/``block``; ``tail`` is
    appended after the last complete line."""
    folder = plan.folder(root, net, block)
    folder.mkdir(parents=True, exist_ok=True)
    n = max(len(xs) for xs in values.values())
    ids = ids or [f"{net}-img{i:03d}" for i in range(n)]
    (folder / "images.json").write_text(json.dumps({"ids": ids}))
    lines = [json.dumps(_row(i, block, v, metric, x)) for v, xs in values.items()
             for i, x in enumerate(xs)]
    with open(folder / "rows.jsonl", "a") as handle:
        handle.write("\n".join(lines) + "\n" + tail)
    return ids


def _diffs(n, mean, sd, seed):
    """n differences with exactly this mean and sample sd."""
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def _pair(n, mean, sd, seed):
    none = 5.0 + np.random.default_rng(seed + 100).standard_normal(n)
    return none + _diffs(n, mean, sd, seed), none


def _entry(res, claim, net, family="confirmatory"):
    return next(e for e in res[family] if (e["claim"], e["net"]) == (claim, net))


def _table_row(lines, claim, short):
    return [c.strip() for c in next(line for line in lines if line.startswith(
        f"| {claim} | {short} | ") and "/" in line).strip("|").split("|")]


def _stop(root):
    (root / "preregistered" / "stopped.json").write_text(
        json.dumps({"date": "2027-01-10", "reason": "n reached"}))


@pytest.fixture
def three(tmp_path):
    """C1 on Lite1 helps (n = 50, two nulls), C3 on Lite1 hurts (40), C4 on Lite2 shows
    nothing (40); nothing else has rows. Returns (root, {claim: (decoys, none)})."""
    c1 = [list(a) for a in _pair(50, -0.5, 1.0, 1)]
    c1[0][3], c1[1][7] = None, None
    c3, c4 = _pair(40, 1.0, 1.0, 2), _pair(40, 0.05, 1.0, 3)
    _write(tmp_path, L1, "smoothgrad", {"decoys": c1[0], "none": c1[1]})
    _write(tmp_path, L1, "expected_gradients", {"decoys": c3[0], "none": c3[1]})
    _write(tmp_path, L2, "gradient", {"decoys": c4[0], "none": c4[1]})
    keep = [i for i in range(50) if i not in (3, 7)]
    c1 = (np.array(c1[0], dtype=object)[keep].astype(float),
          np.array(c1[1], dtype=object)[keep].astype(float))
    return tmp_path, {"C1": c1, "C3": c3, "C4": c4}


def test_confirmatory_numbers_holm_and_verdicts(three):
    root, pairs = three
    res = pt.analysis(root)
    p = np.array([stats.ttest_rel(*pairs[c]).pvalue for c in ("C1", "C3", "C4")])
    adjusted = holm_by_hand(p)
    for k, (claim, net, verdict) in enumerate((("C1", L1, "decoys help"),
                                               ("C3", L1, "decoys hurt"),
                                               ("C4", L2, "no difference shown"))):
        e, (dec, none) = _entry(res, claim, net), pairs[claim]
        d = dec - none
        assert e["n"] == len(d) and e["test"].mean == pytest.approx(d.mean())
        assert e["test"].se == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)))
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        assert (e["test"].low, e["test"].high) == pytest.approx((d.mean() - half,
                                                                 d.mean() + half))
        assert e["test"].p == pytest.approx(p[k], rel=1e-9)
        assert e["p_holm"] == pytest.approx(adjusted[k], rel=1e-9, abs=0)
        assert e["verdict"] == verdict
        assert e["reading"] == ("undecided" if verdict == "decoys help" else "–")  # no controls
    assert _entry(res, "C1", L1)["dropped"] == 2
    # every other claim × net has no rows: not evaluated, outside the family of 3
    assert sum(np.isfinite(e["p_holm"]) for e in res["confirmatory"]) == 3
    assert _entry(res, "C5", L2)["verdict"] == "not evaluated"
    _stop(root)
    cells = _table_row(pt.section(root), "C1", "Lite1")
    d = pairs["C1"][0] - pairs["C1"][1]
    assert cells[2:5] == ["48 / 65 (n not reached)", "2",
                          f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(48):.3f}"]
    assert cells[6] == ("< 0.0001" if p[0] < 1e-4 else f"{p[0]:.4f}")
    assert cells[7] == f"{adjusted[0]:.4f}" and cells[8] == "decoys help"


def test_holm_not_raw_p_decides(tmp_path):
    """Raw p 0.02, 0.03, 0.04: each below 0.05, Holm 0.06 for all three: no verdict."""
    blocks = (("smoothgrad", "sf_k20", "C1"), ("expected_gradients", "sf_k20", "C3"),
              ("integrated_gradients", "sf_k40", "C2"))
    for k, ((block, metric, _), target) in enumerate(zip(blocks, (0.02, 0.03, 0.04))):
        mean = -stats.t.ppf(1 - target / 2, 39) / np.sqrt(40)
        dec, none = _pair(40, mean, 1.0, 10 + k)
        _write(tmp_path, L1, block, {"decoys": dec, "none": none}, metric=metric)
    res = pt.analysis(tmp_path)
    for (_, _, claim), target in zip(blocks, (0.02, 0.03, 0.04)):
        e = _entry(res, claim, L1)
        assert e["test"].p == pytest.approx(target, rel=1e-6)
        assert e["p_holm"] == pytest.approx(0.06, rel=1e-6, abs=0)
        assert e["verdict"] == "no difference shown"


def test_last_line_wins_truncated_line_ignored_images_named(tmp_path):
    dec, none = _pair(40, 0.3, 1.0, 4)
    ids = _write(tmp_path, L2, "expected_gradients", {"decoys": dec, "none": none})
    later = json.dumps(_row(0, "expected_gradients", "decoys", "sf_k20", 42.0))
    cut = json.dumps(_row(1, "expected_gradients", "decoys", "sf_k20", -99.0))[:40]
    with open(plan.folder(tmp_path, L2, "expected_gradients") / "rows.jsonl", "a") as f:
        f.write(later + "\n" + cut)
    rows = pt.load(tmp_path)[(L2, "expected_gradients")]
    assert len(rows) == 80
    got = {(r["index"], r["variant"]): r for r in rows}
    assert got[(0, "decoys")]["value"] == 42.0 and got[(1, "decoys")]["value"] == dec[1]
    assert got[(5, "none")]["image"] == ids[5]
    dec[0] = 42.0
    assert _entry(pt.analysis(tmp_path), "C3", L2)["test"].p == pytest.approx(
        stats.ttest_rel(dec, none).pvalue, rel=1e-9)


def test_drops_below_floor_and_images_beyond_registered_n(tmp_path):
    # C3 on Lite2: n = 40 = floor; images 40-44 are beyond the registered n (never used)
    dec, none = _pair(45, -0.4, 1.0, 5)
    dec[40:] -= 100.0
    _write(tmp_path, L2, "expected_gradients", {"decoys": dec, "none": none})
    # C3 on Lite1: one null leaves 39 < floor 40: not evaluated
    d1 = list(_pair(40, -2.0, 1.0, 6)[0])
    d1[0] = None
    _write(tmp_path, L1, "expected_gradients", {"decoys": d1, "none": _pair(40, 0, 1, 6)[1]})
    res = pt.analysis(tmp_path)
    e = _entry(res, "C3", L2)
    assert e["n"] == 40 and e["reached"] and e["dropped"] == 0
    assert e["test"].p == pytest.approx(stats.ttest_rel(dec[:40], none[:40]).pvalue)
    low = _entry(res, "C3", L1)
    assert (low["n"], low["dropped"], low["verdict"]) == (39, 1, "not evaluated")
    assert low["test"] is None and not np.isfinite(low["p_holm"])
    assert e["p_holm"] == pytest.approx(e["test"].p)        # a family of one


def test_a_budget_that_ended_below_the_floor_is_tested_at_the_n_reached(tmp_path):
    """§4: below the floor without drops (the budget ended) the claim is tested and
    flagged; only drops that bring it below the floor make it "not evaluated"."""
    dec, none = _pair(12, -1.5, 1.0, 8)
    _write(tmp_path, L1, "expected_gradients", {"decoys": dec, "none": none})
    e = _entry(pt.analysis(tmp_path), "C3", L1)
    assert (e["n"], e["dropped"], e["reached"]) == (12, 0, False)
    assert e["test"].p == pytest.approx(stats.ttest_rel(dec, none).pvalue, rel=1e-9)
    assert e["verdict"] != "not evaluated"


def test_lite0_unseen_only_beside(tmp_path):
    dec, none = _pair(85, -0.3, 1.0, 7)
    ids = [f"photo{i:03d}" for i in range(85)]
    _write(tmp_path, L0, "expected_gradients", {"decoys": dec, "none": none}, ids=ids)
    seen = {ids[i] for i in range(0, 85, 3)}
    items = [{"id": i, "half": "second", "seen_lite0": i in seen} for i in ids[::-1]]
    items += [{"id": "first-x", "half": "first", "seen_lite0": True}]
    (tmp_path / "preregistered_images.json").write_text(json.dumps({"images": items}))
    e = _entry(pt.analysis(tmp_path), "C3", L0)
    keep = [i for i in range(85) if ids[i] not in seen]
    u = e["unseen"]
    assert u["n"] == len(keep) == 56
    assert u["test"].mean == pytest.approx((dec - none)[keep].mean())
    assert u["test"].p == pytest.approx(stats.ttest_rel(dec[keep], none[keep]).pvalue)
    assert e["test"].p == pytest.approx(stats.ttest_rel(dec, none).pvalue)   # all 85
    _stop(tmp_path)
    assert _table_row(pt.section(tmp_path), "C3", "Lite0")[-1].startswith("n = 56: ")
    assert _table_row(pt.section(tmp_path), "C3", "Lite1")[-1] == "–"


def test_power_exact_and_by_simulation():
    assert pt.power(65, -0.485) == pytest.approx(0.8003, abs=5e-4)
    n, dz, alpha = 40, 0.5, 0.05 / 15
    x = np.random.default_rng(0).normal(dz, 1.0, (20000, n))
    t = x.mean(1) / (x.std(1, ddof=1) / np.sqrt(n))
    simulated = np.mean(np.abs(t) > stats.t.ppf(1 - alpha / 2, n - 1))
    assert pt.power(n, -dz) == pytest.approx(simulated, abs=0.02)
    assert pt.power(n, dz) == pt.power(n, -dz)


def test_power_at_the_n_reached_and_planning_override(three):
    root, _ = three
    e = _entry(pt.analysis(root), "C1", L1)
    assert e["power"] == pytest.approx(pt.power(48, -0.485)) and e["power"] < 0.8
    assert _entry(pt.analysis(root, {"C1": -1.0}), "C1", L1)["power"] == pytest.approx(
        pt.power(48, -1.0))


def test_no_statistics_before_the_stop(three, monkeypatch):
    root, _ = three
    import dance_tf.metrics.stats

    def refuse(*args, **kwargs):
        raise AssertionError("a statistic computed before the stop")

    with monkeypatch.context() as m:
        m.setattr(dance_tf.metrics.stats, "paired_test", refuse)
        m.setattr(dance_tf.metrics.stats, "holm", refuse)
        before = "\n".join(pt.section(root))
    assert "| C1 | Lite1 | 65 | 50 | 0 | 2 |" in before     # 50 done (2 of them null)
    assert "| C1 | Lite0 | 103 | 0 | 0 | 0 |" in before
    assert "withheld" in before and "§4" in before
    for word in (*VERDICT_WORDS, "Holm", "p =", "±", "power", "CI", "reading"):
        assert word not in before, word
    _stop(root)
    after = "\n".join(pt.section(root))
    for word in ("decoys help", "decoys hurt", "no difference shown", "Holm p", "±"):
        assert word in after
    assert "withheld" not in after and "2027-01-10" in after


def test_progress_counts(tmp_path):
    """An interrupted turn: decoys ran on 32 images, the plain map on 30, the controls on
    20 (matched_vargrad on 19); C1 on Lite2 registers 65, rows beyond it are not counted."""
    block = plan.BLOCKS["smoothgrad"]
    values = {"none": [1.0] * 30, "decoys": [1.0] * 32}
    values.update({v: [1.0] * 20 for v in block.variants[2:]})
    values["matched_vargrad"] = [1.0] * 19
    values["constant"][4] = None
    values["none"][2] = None
    _write(tmp_path, L2, "smoothgrad", values)
    _write(tmp_path, L2, "gradient", {"none": [1.0] * 110, "decoys": [None] + [1.0] * 109})
    lines = pt.progress_lines(tmp_path)
    assert "| C1 | Lite2 | 65 | 30 | 19 | 2 |" in lines
    assert "| C4 | Lite2 | 103 | 103 | 0 | 1 |" in lines
    assert "| C5 | Lite2 | 53 | 0 | 0 | 0 |" in lines     # no continuous-fidelity rows
    assert len(lines) == 2 + 15


def test_no_folder_no_section(tmp_path):
    assert pt.section(tmp_path) == []
    assert pt.stopped(tmp_path) is None


def _c4(tmp_path, controls):
    """C4 on Lite2 (40 images): decoys 1.0 below plain; each control = decoys − shift + its
    own noise (sd): {control: (shift, sd)}; returns the analysis."""
    dec, none = _pair(40, -1.0, 0.5, 20)
    values = {"decoys": dec, "none": none}
    for k, (control, (shift, sd)) in enumerate(controls.items()):
        values[control] = dec - _diffs(40, shift, sd, 30 + k)
    _write(tmp_path, L2, "gradient", values)
    res = pt.analysis(tmp_path)
    assert _entry(res, "C4", L2)["verdict"] == "decoys help"
    return res


ALL_BETTER = {c: (-1.5, 0.5) for c in ("constant", "noise", "matched", "matched_range")}


def test_reading_the_decoys_themselves(tmp_path):
    # decoys + mean level with decoys: reported, not part of the reading
    res = _c4(tmp_path, {"constant": (-0.5, 1.0), "noise": (-0.6, 1.0),
                         "matched": (-0.7, 1.0), "matched_range": (-0.8, 1.0),
                         "mean": (0.0, 0.5)})
    conf = _entry(res, "C4", L2)
    assert conf["reading"] == "the decoys themselves"
    # the secondary family is Holm'd on its own, the confirmatory (one test here) apart
    assert conf["p_holm"] == pytest.approx(conf["test"].p, rel=1e-9, abs=0)
    sec = [e for e in res["secondary"] if e["test"] is not None]
    assert len(sec) == 5
    raw = np.array([e["test"].p for e in sec])
    assert [e["p_holm"] for e in sec] == pytest.approx(list(holm_by_hand(raw)), rel=1e-9,
                                                       abs=0)
    assert max(e["p_holm"] for e in sec if e["control"] != "mean") < 0.05
    _stop(tmp_path)
    lines = pt.section(tmp_path)
    row = next(x for x in lines if x.startswith("| C4 | Lite2 | constant | "))
    want = next(e for e in sec if e["control"] == "constant")
    d = want["test"]
    assert row == (f"| C4 | Lite2 | constant | 40 | 0 | {d.mean:+.3f} ± {d.se:.3f} | "
                   f"[{d.low:+.3f}, {d.high:+.3f}] | {d.p:.4f} | {want['p_holm']:.4f} |")
    assert not any(x.startswith("| C1 | Lite0 | mean | ") for x in lines)  # no rows
    assert "| C4 | Lite2 | decoys help | the decoys themselves |" in lines


@pytest.mark.parametrize("control,shift_sd,reading", [
    ("matched_range", (0.5, 0.5), "the extra evaluations"),   # better than decoys
    ("noise", (-0.2, 3.0), "the extra evaluations"),          # level: |−0.2| ≤ |−1.0|
    ("constant", (-1.5, 8.0), "undecided"),                   # not significant, |−1.5| > 1
    ("matched", (-1.5, 0.5), "the decoys themselves"),        # (all better)
])
def test_reading_hand_built(tmp_path, control, shift_sd, reading):
    res = _c4(tmp_path, {**ALL_BETTER, "mean": (-1.5, 0.5), control: shift_sd})
    e = next(x for x in res["secondary"]
             if (x["claim"], x["net"], x["control"]) == ("C4", L2, control))
    if reading != "the decoys themselves":
        assert e["p_holm"] >= 0.05 or e["test"].mean > 0
    assert _entry(res, "C4", L2)["reading"] == reading


def test_reading_with_a_control_missing(tmp_path):
    """matched_range never ran: the decoys cannot be credited, nothing is level."""
    res = _c4(tmp_path, {c: v for c, v in ALL_BETTER.items() if c != "matched_range"})
    assert _entry(res, "C4", L2)["reading"] == "undecided"
