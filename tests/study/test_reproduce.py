"""The reproduction study's statistics, halves, verdicts and a smoke run (issue 14)."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from scipy import stats

from dance_tf.study import claims, conditions, verdicts
from dance_tf.study.cli import main


def test_compare_matches_scipy_paired_t_test():
    rng = np.random.default_rng(3)
    base = rng.normal(2.0, 1.0, 25)
    ours = base + rng.normal(-0.3, 0.8, 25)
    c = verdicts.compare(ours, base)
    ref = stats.ttest_rel(ours, base, alternative="less")
    assert c.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert c.p_opposite == pytest.approx(
        stats.ttest_rel(ours, base, alternative="greater").pvalue, rel=1e-10)
    d = ours - base
    assert c.mean == pytest.approx(d.sum() / 25)
    assert c.se == pytest.approx(math.sqrt(((d - d.mean()) ** 2).sum() / 24 / 25))
    assert (c.n, c.ours, c.baseline) == (25, pytest.approx(ours.mean()),
                                         pytest.approx(base.mean()))


def test_compare_hand_worked():
    # diffs −1, −2, −3: mean −2, s = 1, se = 1/√3, t = −2√3; Student t with 2 d.o.f. has
    # CDF(t) = 1/2 + t / (2√(2 + t²)) = 1/2 − 2√3 / (2√14)
    c = verdicts.compare([1.0, 1.0, 1.0], [2.0, 3.0, 4.0])
    assert c.mean == pytest.approx(-2.0)
    assert c.se == pytest.approx(1 / math.sqrt(3))
    assert c.p == pytest.approx(0.5 - math.sqrt(3) / math.sqrt(14))   # 0.0370...
    assert c.p_opposite == pytest.approx(0.5 + math.sqrt(3) / math.sqrt(14))
    assert c.verdict == "reproduced"


def test_holm_hand_worked():
    """p = (0.01, 0.04, 0.03), m = 3: sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04
    raised to 0.06 (monotone)."""
    from dance_tf.metrics.stats import holm

    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.4]), [0.8, 0.8])
    np.testing.assert_allclose(holm([0.9, 0.001]), [0.9, 0.002])


def test_compare_refuses_bad_shapes():
    with pytest.raises(ValueError, match="at least 2"):
        verdicts.compare([1.0], [2.0])
    with pytest.raises(ValueError, match="ours, baseline"):
        verdicts.compare([1.0, 2.0], [2.0, 3.0, 4.0])


def test_verdict_words():
    assert verdicts.verdict(0.01, 0.99) == "reproduced"
    assert verdicts.verdict(0.99, 0.01) == "opposite"
    assert verdicts.verdict(0.2, 0.8) == "not significant"
    assert verdicts.verdict(0.05, 0.95) == "not significant"   # α is strict
    assert verdicts.verdict(float("nan"), float("nan")) == "not significant"
    # constructed data: every difference far below zero, far above, and mixed
    assert verdicts.compare([0, 0, 0, 0.1], [5, 6, 5, 6]).verdict == "reproduced"
    assert verdicts.compare([5, 6, 5, 6], [0, 0, 0, 0.1]).verdict == "opposite"
    assert verdicts.compare([1, 2, 1, 2], [2, 1, 2, 1]).verdict == "not significant"


def test_halves_deterministic_disjoint_and_stable():
    ids = [f"img-{i:03d}" for i in range(200)]
    first, second = verdicts.halves(ids)
    assert set(first).isdisjoint(second) and sorted(first + second) == sorted(ids)
    assert verdicts.halves(ids) == (first, second)
    assert 70 < len(first) < 130            # balanced on average
    shuffled = list(reversed(ids))
    f2, _ = verdicts.halves(shuffled)
    assert set(f2) == set(first)             # independent of order
    f3, _ = verdicts.halves(ids[:50])        # and of how many inputs have run
    assert set(f3) == set(first) & set(ids[:50])
    assert set(verdicts.halves(ids, seed=15)[0]) != set(first)
    with pytest.raises(ValueError, match="distinct"):
        verdicts.halves(["a", "a"])


def test_paper_numbers():
    assert claims.paper_fidelity("imagenet", "gradient", "none", "0.2").mean == -1.61
    assert claims.paper_fidelity("sst", "smoothgrad", "mean", "0.2").p == "0.959"
    ids_diff = claims.paper_fidelity("ids", "gradient", "none", "0.2")
    assert ids_diff.mean == pytest.approx(1.64 - 1.80) and ids_diff.p is None
    assert claims.paper_fidelity("digits", "gradient", "none", "0.2").mean is None
    assert claims.paper_fidelity("imagenet", "gradient", "none", "0.1").mean is None


def test_smoke_run_and_report_only(tmp_path):
    root, report = tmp_path / "reproduction", tmp_path / "REPRODUCTION.md"
    argv = ["--smoke", "--only", "digits", "--root", str(root), "--report", str(report)]
    assert main(argv) == 0
    text = report.read_text()
    assert "Fidelity SF at K = 20%" in text and "second half" in text
    packed = root / "digits" / "results.jsonl.gz"
    with gzip.open(packed, "rt") as handle:
        rows = [json.loads(line) for line in handle]
    assert len(rows) == 2 * 5 and {r["variant"] for r in rows} == set(conditions.ALL_VARIANTS)
    # a fresh checkout: only the packed rows; --report-only computes nothing, same tables
    (root / "digits" / "results.jsonl").unlink()
    assert main(["--report-only", "--root", str(root), "--report", str(report)]) == 0
    again = report.read_text()
    body = lambda t: t.split("## Protocol", 1)[1]   # noqa: E731 - the command line differs
    assert body(again) == body(text)
    assert not (root / "digits" / "results.jsonl").exists()
    # a report file this script did not write is never overwritten
    foreign = tmp_path / "other.md"
    foreign.write_text("mine\n")
    assert main(["--report-only", "--root", str(root), "--report", str(foreign)]) == 2
    assert foreign.read_text() == "mine\n"


def test_dance_tf_reproduce_delegates(capsys):
    from dance_tf import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "dance-tf reproduce" in out and "--report-only" in out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "--minutes", "-1"])
    assert exit_.value.code == 2
    assert "--minutes" in capsys.readouterr().err


def test_minutes_budget_stops_and_reports(tmp_path):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    root, report = tmp_path / "reproduction", tmp_path / "REPRODUCTION.md"
    # 0.6 s: stops during the task's set-up or its first rows; the run ends normally
    argv = ["--smoke", "--only", "digits", "--minutes", "0.01", "--root", str(root),
            "--report", str(report)]
    assert main(argv) == 0
    assert report.read_text().startswith("# Reproduction of DANCE")
    assert signal.getsignal(signal.SIGTERM) == before      # handler restored
