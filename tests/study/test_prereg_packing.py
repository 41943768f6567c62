"""The packing choice and its confirmation (issue 26, PREREGISTRATION.md §7;
dance_tf.study.prereg_packing): the plan against the registration's text, the choice rule on
hand-built rows, the n rule against §7's numbers and a simulation, the non-inferiority test
against scipy.stats.ttest_1samp with Holm by hand and the section's withholding (the runner:
test_prereg_packing_run.py)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dance_tf import masks
from dance_tf.study import prereg_packing as pk
from dance_tf.study import prereg_plan as plan
from tests.study.conftest import holm_by_hand

REPO = Path(__file__).resolve().parents[2]
PREREG = REPO / "reproduction" / "PREREGISTRATION.md"

pytestmark = pytest.mark.filterwarnings("ignore::dance_tf.explanation.DecoyWarning")


def _section7() -> str:
    text = PREREG.read_text(encoding="utf-8")
    return text[text.index("## 7."):text.index("## 8.")]


# --- the plan -------------------------------------------------------------------------

def test_packings_methods_and_caps_are_section_7s():
    """m and 2n of each packing, the methods, the images and the caps, read from §7's
    text: a transcription error fails here."""
    s7 = " ".join(_section7().split())
    assert re.search(r"the paper's, m = 100 \(2n = 986", s7)
    assert re.search(r"tiles m = 500 \(2n = 198\)", s7)    # registered; erratum: 200
    assert re.search(r"tiles m = 2000 \(2n = 50\)", s7)
    assert pk.PACKINGS == {"paper": {"packing": "paper", "patches_per_mask": 100},
                           "tiles500": {"packing": "tiles", "patches_per_mask": 500},
                           "tiles2000": {"packing": "tiles", "patches_per_mask": 2000}}
    # the decoy counts from the masks themselves (the registered text's 198 was a slip)
    assert pk.DECOYS == {p: 2 * len(masks.window_groups((224, 224, 3), 3, 1, **o))
                         for p, o in pk.PACKINGS.items()}
    assert "2n = **198**" in PREREG.read_text(encoding="utf-8").split("## Erratum")[1]
    assert pk.cheapest_first() == ["tiles2000", "tiles500", "paper"]
    assert "first 24 first-half images" in s7 and pk.CHOICE_IMAGES == 24
    caps = re.search(r"cap is (\d+) for the gradient and (\d+) for SmoothGrad", s7)
    assert pk.CAP == {"gradient": int(caps[1]), "smoothgrad": int(caps[2])}
    assert re.search(r"δ = 0\.5 SF", s7) and pk.DELTA == 0.5
    # SmoothGrad-10 with C1's settings; SF top 20 %
    assert pk.METHODS == {"gradient": {},
                          "smoothgrad": plan.BLOCKS["smoothgrad"].method_options}
    assert pk.METHODS["smoothgrad"] == {"samples": 10, "noise": 0.15}
    assert plan.SF_K[pk.METRIC] == 0.2 and pk.NET == "efficientnet_lite0"


def test_choice_turns_cover_24_images_cheapest_first():
    turns = pk.choice_turns()
    reached: dict = {}
    for t in turns:
        assert (t.step, t.net) == (2, "efficientnet_lite0")
        before = reached.get(t.block, 0)
        assert before < t.upto <= before + plan.TURN
        reached[t.block] = t.upto
    assert reached == {pk.name(m, p): 24 for m in pk.METHODS for p in pk.PACKINGS}
    ends = [t.upto for t in turns]
    assert ends == sorted(ends)                     # turn by turn
    first = [t.block for t in turns if t.upto == plan.TURN]
    assert first == [pk.name(m, p) for m in ("gradient", "smoothgrad")
                     for p in ("tiles2000", "tiles500", "paper")]


def test_confirmation_turns_come_from_the_choice():
    """Only a method whose choice is not the paper's is confirmed: its chosen and the
    paper's packing, up to its n."""
    choice = {"gradient": {"chosen": "tiles500", "n_confirm": 20},
              "smoothgrad": {"chosen": "paper", "n_confirm": None}}
    turns = pk.confirm_turns(choice)
    assert {t.step for t in turns} == {3}
    assert {t.block for t in turns} == {"gradient-tiles500", "gradient-paper"}
    assert [t.upto for t in turns] == [8, 8, 16, 16, 20, 20]
    assert pk.confirm_turns({"gradient": {"chosen": "paper", "n_confirm": None}}) == []


# --- the choice rule ------------------------------------------------------------------

def _rows(method, packing, decoys, plain=None):
    plain = [1.0] * len(decoys) if plain is None else plain
    return [{"index": i, "variant": v, "metric": "sf_k20",
             "value": None if x is None else float(x)}
            for v, xs in (("decoys", decoys), ("none", plain)) for i, x in enumerate(xs)]


def _with_mean_se(n, mean, se, seed):
    """n values with exactly this mean and standard error (sd / √n)."""
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + se * np.sqrt(n) * (z - z.mean()) / z.std(ddof=1)


def _data(method, values):
    return {pk.name(method, p): _rows(method, p, list(v)) for p, v in values.items()}


N = 24
BASE = 3.0 + np.random.default_rng(0).standard_normal(N)


@pytest.mark.parametrize("ratio_500, ratio_2000, chosen", [
    (3.0, 3.0, "paper"),          # both cheaper ones clearly worse: the best stays
    (0.5, 3.0, "tiles500"),       # one within one s.e. replaces it
    (3.0, 0.999, "tiles2000"),    # just within
    (3.0, 1.001, "paper"),        # just outside
    (0.5, 0.8, "tiles2000"),      # both within: the cheapest
    (1.5, 3.0, "paper"),          # within 1.5 s.e. is not within one (nor is it one sd)
])
def test_choice_rule_on_hand_built_rows(ratio_500, ratio_2000, chosen):
    """paper is best by mean; tiles500 / tiles2000 = paper + d with mean d = ratio × s.e.
    of d, by construction. The chosen packing and its sd of chosen − paper are known."""
    d500 = _with_mean_se(N, 0.4 * ratio_500, 0.4, seed=1)
    d2000 = _with_mean_se(N, 0.3 * ratio_2000, 0.3, seed=2)
    values = {"paper": BASE, "tiles500": BASE + d500, "tiles2000": BASE + d2000}
    res = pk.choose(_data("gradient", values))["gradient"]
    assert res["best"] == "paper" and res["chosen"] == chosen and res["n"] == N
    want_sd = {"paper": 0.0, "tiles500": np.std(d500, ddof=1),
               "tiles2000": np.std(d2000, ddof=1)}[chosen]
    assert res["sd_paper"] == pytest.approx(want_sd, abs=1e-12)
    assert res["diff"]["tiles2000"] == pytest.approx((0.3 * ratio_2000, 0.3))
    assert (res["n_confirm"] is None) == (chosen == "paper")


def test_choice_best_by_mean_is_not_the_first_or_the_cheapest():
    """tiles500 lowest; tiles2000 within one s.e. of tiles500 (not of paper) replaces it;
    paper is never a 'cheaper' replacement; SmoothGrad's rows are separate."""
    d = _with_mean_se(N, 0.5, 0.6, seed=3)                  # tiles2000 − tiles500
    values = {"paper": BASE + 2.0, "tiles500": BASE, "tiles2000": BASE + d}
    grad = pk.choose(_data("gradient", values))["gradient"]
    assert (grad["best"], grad["chosen"]) == ("tiles500", "tiles2000")
    assert grad["mean"]["tiles500"] == pytest.approx(BASE.mean())
    assert grad["sd_paper"] == pytest.approx(np.std(d - 2.0, ddof=1))
    # paper within one s.e. of the best, but dearer: no replacement
    p = _with_mean_se(N, 0.1, 0.5, seed=4)
    values = {"paper": BASE + p, "tiles500": BASE + 3.0, "tiles2000": BASE}
    both = {**_data("gradient", values), **_data("smoothgrad", {
        "paper": BASE, "tiles500": BASE + 3.0, "tiles2000": BASE + 3.0})}
    res = pk.choose(both)
    assert (res["gradient"]["best"], res["gradient"]["chosen"]) == ("tiles2000", "tiles2000")
    assert (res["smoothgrad"]["best"], res["smoothgrad"]["chosen"]) == ("paper", "paper")


def test_choice_ties_go_to_the_cheaper_packing():
    """Equal means (exact binary fractions): the cheaper one is the best (not the first
    in PACKINGS' order), and the dearer tie does not come back."""
    a = np.arange(N) / 4.0
    values = {"paper": a, "tiles500": a[::-1], "tiles2000": a + 8.0}
    res = pk.choose(_data("gradient", values))["gradient"]
    assert (res["best"], res["chosen"]) == ("tiles500", "tiles500")
    values = {"paper": a, "tiles500": a + 8.0, "tiles2000": a.copy()}
    res = pk.choose(_data("gradient", values))["gradient"]
    assert (res["best"], res["chosen"]) == ("tiles2000", "tiles2000")
    values = {"paper": a + 0.5, "tiles500": a, "tiles2000": a.copy()}
    res = pk.choose(_data("gradient", values))["gradient"]
    assert res["chosen"] == "tiles2000" and res["diff"]["tiles2000"] == (0.0, 0.0)


def test_choice_pairs_images_and_drops_non_finite_rows():
    """An image whose decoys row is not finite under one packing leaves every packing's
    mean; an image missing under one packing too; rows beyond the 24 images are ignored."""
    values = {p: list(BASE + k) for k, p in enumerate(("paper", "tiles500", "tiles2000"))}
    values["tiles500"][5] = None
    values["paper"][7] = float("nan")
    data = _data("gradient", values)
    data["gradient-tiles2000"] = [r for r in data["gradient-tiles2000"] if r["index"] != 9]
    for k, p in enumerate(("paper", "tiles500", "tiles2000")):   # beyond the 24 images
        data[f"gradient-{p}"].append({"index": N, "variant": "decoys", "metric": "sf_k20",
                                      "value": (-1000.0, 0.0, 0.0)[k]})
    res = pk.choose(data)["gradient"]
    keep = [i for i in range(N) if i not in (5, 7, 9)]
    assert (res["n"], res["dropped"], res["images"]) == (N - 3, 2, N - 1)
    assert res["mean"]["paper"] == pytest.approx(BASE[keep].mean())
    assert res["best"] == "paper"
    assert res["mean"]["tiles500"] == pytest.approx(BASE[keep].mean() + 1)


# --- the n rule -----------------------------------------------------------------------

def test_n_rule_is_section_7s_table():
    """§7: "that n is 10, 34, 73 and 128 for an sd of 0.5, 1.0, 1.5 and 2.0", read from
    the text (one-sided α = 0.025: with 0.05 it would be 8, 27, 58, 101); then the caps."""
    s7 = " ".join(_section7().split())
    m = re.search(r"that n is (\d+), (\d+), (\d+) and (\d+) for an sd of ([\d.]+), "
                  r"([\d.]+), ([\d.]+) and (\d\.\d)", s7)
    ns, sds = [int(x) for x in m.groups()[:4]], [float(x) for x in m.groups()[4:]]
    assert ns == [10, 34, 73, 128]
    assert [pk.confirmation_n(sd) for sd in sds] == ns
    assert pk.confirmation_n(2.0, pk.CAP["gradient"]) == 103
    assert pk.confirmation_n(1.5, pk.CAP["smoothgrad"]) == 40
    assert pk.confirmation_n(1.0, pk.CAP["smoothgrad"]) == 34
    assert pk.confirmation_n(float("nan"), 40) == 40


def _rejections(n, sd, draws=20000, seed=0):
    """Share of simulated second halves (true E[d] = 0) in which the one-sided test of
    H0: E[d] ≥ 0.5 rejects at α = 0.025 (scipy's test on d − 0.5)."""
    d = np.random.default_rng(seed).normal(0.0, sd, (draws, n))
    p = stats.ttest_1samp(d - 0.5, 0.0, axis=1, alternative="less").pvalue
    return float(np.mean(p < 0.025))


@pytest.mark.parametrize("sd", [0.8, 1.3])
def test_n_rule_against_a_simulation(sd):
    """At the rule's n the simulated power is ≥ 0.80 (tolerance 0.02) and matches the
    exact power; at n − 1 it is below 0.80 (same tolerance)."""
    n = pk.confirmation_n(sd)
    at_n = _rejections(n, sd)
    assert at_n >= 0.80 - 0.02
    assert abs(at_n - pk.noninferiority_power(n, sd)) < 0.02
    assert _rejections(n - 1, sd, seed=1) < 0.80 + 0.02


# --- the confirmation -----------------------------------------------------------------

CHOICE = {"gradient": {"chosen": "tiles2000", "n_confirm": 30},
          "smoothgrad": {"chosen": "tiles500", "n_confirm": 12}}


def _confirm_rows(d_grad, d_sg, seed=5):
    rng = np.random.default_rng(seed)
    data = {}
    for method, d, chosen in (("gradient", d_grad, "tiles2000"),
                              ("smoothgrad", d_sg, "tiles500")):
        paper = 4.0 + rng.standard_normal(len(d))
        data[pk.name(method, "paper")] = _rows(method, "paper", list(paper))
        data[pk.name(method, chosen)] = _rows(method, chosen, list(paper + d))
    return data


def test_confirmation_against_scipy_and_holm_by_hand():
    """d = chosen − paper on each method's first n images; scipy's one-sided test of
    d − 0.5 < 0; Holm over the two methods; non-finite pairs and images beyond n left out."""
    rng = np.random.default_rng(6)
    d_grad = np.concatenate([rng.normal(0.1, 0.8, 30), [-50.0, -50.0]])   # 2 beyond n
    d_sg = rng.normal(0.0, 0.6, 12)
    data = _confirm_rows(d_grad, d_sg)
    data["gradient-paper"][3]["value"] = None                             # dropped
    res = pk.confirm(data, CHOICE)
    want = {"gradient": np.delete(d_grad[:30], 3), "smoothgrad": d_sg}
    p = []
    for m, d in want.items():
        ref = stats.ttest_1samp(d - 0.5, 0.0, alternative="less")
        assert res[m]["n"] == len(d) and res[m]["t"] == pytest.approx(ref.statistic)
        assert res[m]["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert res[m]["mean"] == pytest.approx(d.mean(), abs=1e-12)
        p.append(ref.pvalue)
    assert res["gradient"]["dropped"] == 1
    holm = holm_by_hand(np.array(p))
    for m, h in zip(want, holm):
        assert res[m]["p_holm"] == pytest.approx(h, rel=1e-9)
        assert res[m]["verdict"] == ("non-inferior" if h < 0.05
                                     else "non-inferiority not shown")


def test_confirmation_verdicts_and_holm_step():
    """One p between 0.025 and 0.05 with the other tiny: Holm's second step passes it;
    a method whose choice is the paper's is not tested and leaves Holm a family of one."""
    d_grad = np.full(30, -0.5) + np.random.default_rng(7).normal(0, 0.2, 30)
    d_sg = _with_mean_se(12, 0.5 - 1.9 * 0.2, 0.2, seed=8)   # t = −1.9, df 11: p ≈ 0.042
    res = pk.confirm(_confirm_rows(d_grad, d_sg), CHOICE)
    p_sg = stats.t.cdf(-1.9, 11)
    assert 0.025 < p_sg < 0.05
    assert res["smoothgrad"]["p"] == pytest.approx(p_sg)
    assert res["smoothgrad"]["p_holm"] == pytest.approx(p_sg)    # max(2·p_min, p_sg)
    assert res["smoothgrad"]["verdict"] == res["gradient"]["verdict"] == "non-inferior"
    # worse than δ: not shown
    res = pk.confirm(_confirm_rows(d_grad, d_sg + 1.0), CHOICE)
    assert res["smoothgrad"]["verdict"] == "non-inferiority not shown"
    only = {**CHOICE, "smoothgrad": {"chosen": "paper", "n_confirm": None}}
    res = pk.confirm(_confirm_rows(d_grad, d_sg), only)
    assert res["smoothgrad"]["verdict"].startswith("nothing to confirm")
    assert not np.isfinite(res["smoothgrad"]["p"])
    assert res["gradient"]["p_holm"] == pytest.approx(res["gradient"]["p"])


# --- the section: the choice, then the confirmation only once it has finished ----------

def _write(folder, ids, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images.json").write_text(json.dumps({"ids": ids}))
    with open(folder / "rows.jsonl", "a") as handle:
        for r in rows:
            handle.write(json.dumps({**r, "method": "m", "input": "x", "direction": "lower",
                                     "target": 1, "label": None, "n_decoys": 2,
                                     "map_seconds": 1.0, "config": "c"}) + "\n")


def test_section_withholds_the_confirmation_until_it_has_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(pk, "CAP", {"gradient": 6, "smoothgrad": 6})
    root = tmp_path
    rng = np.random.default_rng(9)
    assert pk.section(root) == []
    base = 3.0 + rng.standard_normal(N)
    values = {"gradient": {"paper": base, "tiles500": base + 2.0,
                           "tiles2000": base + _with_mean_se(N, 0.1, 0.2, 10)},
              "smoothgrad": {"paper": base, "tiles500": base + 3.0, "tiles2000": base + 3.0}}
    for m, vs in values.items():
        for p, v in vs.items():
            rows = _rows(m, p, list(v))
            if (m, p) == ("gradient", "paper"):          # the choice is not complete yet
                rows = [r for r in rows if r["index"] < N - 1]
            _write(pk.folder(root, pk.CHOICE, m, p), [f"f{i}" for i in range(N)], rows)
    text = "\n".join(pk.section(root))
    assert "waits for every packing's rows" in text and "| chosen |" not in text
    _write(pk.folder(root, pk.CHOICE, "gradient", "paper"), [f"f{i}" for i in range(N)],
           [r for r in _rows("gradient", "paper", list(base)) if r["index"] == N - 1])
    text = "\n".join(pk.section(root))
    assert "| gradient | paper | tiles2000 | 24 |" in text
    assert "| smoothgrad | paper | paper | 24 |" in text
    ids = [f"s{i}" for i in range(6)]
    paper = 4.0 + rng.standard_normal(6)
    d = rng.normal(0.0, 0.3, 6)
    _write(pk.folder(root, pk.CONFIRM, "gradient", "paper"), ids,
           _rows("gradient", "paper", list(paper)))
    _write(pk.folder(root, pk.CONFIRM, "gradient", "tiles2000"), ids[:5],
           _rows("gradient", "tiles2000", list(paper + d)[:5]))
    text = "\n".join(pk.section(root))
    assert "| gradient | tiles2000 | 6 | 5 |" in text
    assert "withheld" in text and "p (one-sided)" not in text
    stop = root / "preregistered" / "stopped.json"        # the study stopped: n reached
    stop.write_text(json.dumps({"date": "d", "reason": "budget ended"}))
    text = "\n".join(pk.section(root))
    assert "| gradient | 5 / 6 (n not reached: the study stopped) | 0 |" in text
    stop.unlink()
    _write(pk.folder(root, pk.CONFIRM, "gradient", "tiles2000"), ids,
           [r for r in _rows("gradient", "tiles2000", list(paper + d)) if r["index"] == 5])
    text = "\n".join(pk.section(root))
    ref = stats.ttest_1samp(d - 0.5, 0.0, alternative="less")
    assert "withheld" not in text
    assert f"| {ref.statistic:.2f} | {ref.pvalue:.4f} | {ref.pvalue:.4f} |" in text


#: (chosen, verdict) of one method, as :func:`pk.confirm` writes them
KEPT = ("paper", "nothing to confirm (the paper's packing was chosen)")
PASS_500, PASS_2000 = ("tiles500", "non-inferior"), ("tiles2000", "non-inferior")
FAIL_500, FAIL_2000 = ("tiles500", "non-inferiority not shown"), ("tiles2000",
                                                                  "non-inferiority not shown")
STAYS = "paper's packing stays "


@pytest.mark.parametrize("gradient,smoothgrad,expect", [
    # by hand from amendment 2, point 8
    (PASS_500, PASS_2000, "becomes `auto`"),
    (KEPT, PASS_2000, STAYS + "(smoothgrad shown non-inferior, gradient chose the paper's"),
    (FAIL_500, PASS_2000, STAYS + "(smoothgrad shown non-inferior, non-inferiority not "
                                  "shown for gradient)"),
    (KEPT, KEPT, STAYS + "(gradient, smoothgrad chose the paper's"),
    (KEPT, FAIL_2000, STAYS + "(gradient chose the paper's packing, non-inferiority not "
                              "shown for smoothgrad)"),
])
def test_default_reading_is_amendment_2_point_8(gradient, smoothgrad, expect):
    """`auto` becomes the default only when every method moved off the paper's packing and
    each was shown non-inferior; the study's own outcome (gradient kept the paper's,
    SmoothGrad passed) keeps the paper's."""
    res = {m: {"chosen": c, "verdict": v}
           for m, (c, v) in (("gradient", gradient), ("smoothgrad", smoothgrad))}
    text = pk.default_reading(res)
    assert expect in text
    assert ("`auto`" in text) == (expect == "becomes `auto`")
