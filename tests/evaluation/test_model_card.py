"""evaluate_model (issue 25): its rows against the metrics and the Explainer called by hand,
a killed run resumed without duplicates, the folder's refusals, and the Holm verdicts."""

import json

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from dance_tf import Explainer
from dance_tf.evaluation import EvaluationError, evaluate_model
from dance_tf.evaluation.card_metrics import METRICS, MetricSpec, register_metric
from dance_tf.evaluation.card_result import CardResult
from dance_tf.metrics import fidelity, fidelity_continuous
from dance_tf.saliency import smoothgrad
from dance_tf.saliency.smoothgrad_range import smoothgrad_range
from tests.conftest import small_cnn

pytestmark = pytest.mark.filterwarnings("ignore::dance_tf.explanation.DecoyWarning")
SMALL = {"patch_size": 2, "patches_per_mask": 8, "value_range": (0.0, 1.0), "seed": 0}


def _peak(maps):
    """Stand-in "maps" metric: the largest feature score of each map (N,)."""
    return np.asarray(maps).reshape(len(maps), -1).max(axis=1)


@pytest.fixture(autouse=True)
def stand_ins():
    register_metric(MetricSpec("peak", "maps", "higher", fn=_peak))
    yield
    METRICS.pop("peak", None)
    METRICS.pop("flaky", None)


@pytest.fixture(scope="module")
def model():
    return small_cnn(size=8, classes=3)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    x = rng.random((3, 8, 8, 1), dtype=np.float32) * 0.8 + 0.1
    return x, np.array([2, 0, 1])


def constant_map(model, x, targets):
    """A user base method whose map is (1 + target) everywhere: its matched mean form is
    the same map, its range form zero."""
    t = tf.cast(tf.reshape(targets, [-1] + [1] * (len(x.shape) - 1)), x.dtype)
    return tf.ones_like(x) * (1.0 + t)


def features(sal):
    """One score per pixel: mean |value| over channels (what SF ranks, §4.1)."""
    return np.abs(np.asarray(sal)).mean(axis=-1)


def by_hand(model, x, y):
    """{(index, method, variant, metric): value} from the Explainer, the base methods and
    the metrics called one by one."""
    out = {}
    ex = Explainer(model, method="gradient", perturbation="decoys", aggregation="range",
                   **SMALL)
    for i, (xi, c) in enumerate(zip(x, y)):
        det = ex.explain(xi, int(c), return_details=True)
        n2 = len(det.decoys)
        assert n2 == 2 * len(det.masks)
        logits = ex.logits_model(xi.shape)
        maps = {("gradient", "none"): ex.base_map(xi, int(c)),
                ("gradient", "decoys"): det.saliency,
                ("gradient", "matched"): smoothgrad(logits, xi[None], np.array([c]),
                                                    samples=n2, noise=0.15, seed=0)[0],
                ("gradient", "matched_range"): smoothgrad_range(
                    logits, xi[None], np.array([c]), samples=n2, noise=0.15, seed=0)[0],
                ("constant_map", "none"): np.full_like(xi, 1.0 + c),
                ("constant_map", "matched"): np.full_like(xi, 1.0 + c),
                ("constant_map", "matched_range"): np.zeros_like(xi)}
        for (m, v), sal in maps.items():
            f = features(sal)[None]
            out[(i, m, v, "fidelity")] = fidelity(model, xi[None], f, [c], k=0.25)[0]
            out[(i, m, v, "fidelity_continuous")] = fidelity_continuous(model, xi[None], f,
                                                                        [c])[0]
            out[(i, m, v, "peak")] = f.max()
    return out


METRIC_CHOICE = {"fidelity": {"k": 0.25}, "fidelity_continuous": {}, "peak": {}}


def run(model, inputs, labels=None, out=None, metrics=None, **extra):
    return evaluate_model(model, inputs, labels, methods=["gradient", constant_map],
                          variants=["none", "decoys", "matched", "matched_range"],
                          metrics=metrics or METRIC_CHOICE, out=out, quiet=True, examples=1,
                          log=lambda *_: None, **{**SMALL, **extra})


@pytest.fixture(scope="module")
def card(model, data, tmp_path_factory):
    """One run on a tf.data dataset of (x, y) pairs: (result, its folder)."""
    x, y = data
    register_metric(MetricSpec("peak", "maps", "higher", fn=_peak))
    out = tmp_path_factory.mktemp("card") / "out"
    return run(model, tf.data.Dataset.from_tensor_slices((x, y)), out=out), out


def test_rows_equal_the_metrics_called_by_hand(model, data, card):
    x, y = data
    result, out = card
    pred = np.argmax(model(x).numpy(), axis=1)
    assert np.any(pred != y), "the labels must differ from the predictions somewhere"
    want = by_hand(model, x, y)
    got = {(r["index"], r["method"], r["variant"], r["metric"]): r for r in result.rows}
    # the constant map's DANCE range is zero (no decoy moves its map): also by hand
    for i in range(3):
        for metric in METRIC_CHOICE:
            want[(i, "constant_map", "decoys", metric)] = by_hand_zero(model, x[i], y[i],
                                                                       metric)
    assert set(got) == set(want)
    for key, value in want.items():
        np.testing.assert_allclose(got[key]["value"], value, rtol=1e-5, atol=1e-6,
                                   err_msg=str(key))
        assert got[key]["target"] == y[key[0]]   # the labels of the (x, y) pairs
    assert {r["direction"] for r in result.rows if r["metric"] == "peak"} == {"higher"}
    assert {r["direction"] for r in result.rows if r["metric"] == "fidelity"} == {"lower"}
    # the rows file holds the same rows, one line each
    lines = (out / "rows.jsonl").read_text().splitlines()
    assert len(lines) == len(result.rows) == 2 * 4 * 3 * 3
    assert (out / "report.html").is_file()


def by_hand_zero(model, x, c, metric):
    """The scores of an all-zero map of x."""
    f = np.zeros((1,) + x.shape[:-1], np.float32)
    if metric == "fidelity":
        return fidelity(model, x[None], f, [c], k=0.25)[0]
    if metric == "fidelity_continuous":
        return fidelity_continuous(model, x[None], f, [c])[0]
    return 0.0


def _file_rows(out):
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    return {(r["index"], r["method"], r["variant"], r["metric"]): r["value"] for r in rows}, \
        len(rows)


def test_killed_run_resumes_without_duplicates(model, data, card, tmp_path):
    x, y = data
    clean, _ = card
    expected = {(r["index"], r["method"], r["variant"], r["metric"]): r["value"]
                for r in clean.rows}
    calls = {"n": 0}

    def flaky(maps):   # dies on its 5th call, like a kill in the middle of a run
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return _peak(maps)

    register_metric(MetricSpec("peak", "maps", "higher", fn=flaky))
    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        run(model, x, y, out=out)
    partial, lines = _file_rows(out)
    assert 0 < lines < len(expected) and lines == len(partial)
    # a kill during a write: a partial last line
    with open(out / "rows.jsonl", "a") as handle:
        handle.write('{"index": 2, "method": "grad')
    register_metric(MetricSpec("peak", "maps", "higher", fn=_peak))
    resumed = run(model, x, y, out=out)
    final, lines = _file_rows(out)
    assert lines == len(expected) == len(final)    # no duplicates, no partial line
    assert set(final) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(final[key], value, rtol=1e-6, err_msg=str(key))
    assert len(resumed.rows) == len(expected)
    # a third run computes nothing: the file is unchanged
    before = (out / "rows.jsonl").read_bytes()
    register_metric(MetricSpec("peak", "maps", "higher", fn=lambda m: 1 / 0))
    run(model, x, y, out=out)
    assert (out / "rows.jsonl").read_bytes() == before


def test_another_configuration_is_refused_with_what_differs(model, data, tmp_path):
    x, _ = data
    out = tmp_path / "card"
    evaluate_model(model, x[:2], methods=["gradient"], variants=["none"],
                   metrics=["peak"], out=out, quiet=True, log=lambda *_: None, **SMALL)
    with pytest.raises(EvaluationError, match=r"explainer_options\.patch_size: 2 there, 1 "
                                              r"now"):
        evaluate_model(model, x[:2], methods=["gradient"], variants=["none"],
                       metrics=["peak"], out=out, quiet=True, log=lambda *_: None,
                       **{**SMALL, "patch_size": 1})
    # other inputs under the same index: refused, not mixed
    with pytest.raises(EvaluationError, match="different input"):
        evaluate_model(model, x[1:], methods=["gradient"], variants=["none"],
                       metrics=["peak"], out=out, quiet=True, log=lambda *_: None, **SMALL)


def test_files_it_did_not_write_are_never_overwritten(model, data, tmp_path):
    x, _ = data
    for name, text in (("report.html", "<html>mine</html>\n"), ("rows.jsonl", "my notes\n")):
        out = tmp_path / name
        out.mkdir()
        (out / name).write_text(text)
        with pytest.raises(EvaluationError, match="not written by|not a JSON|holds results"):
            evaluate_model(model, x[:2], methods=["gradient"], variants=["none"],
                           metrics=["peak"], out=out, quiet=True, log=lambda *_: None,
                           **SMALL)
        assert (out / name).read_text() == text


def test_unknown_or_missing_metrics_stop_before_anything_runs(model, data, tmp_path):
    x, _ = data
    with pytest.raises(ValueError, match="unknown 'nope'"):
        evaluate_model(model, x, metrics=["nope"], out=tmp_path / "a")
    register_metric(MetricSpec("flaky", "model", "lower"))   # not in dance_tf.metrics
    with pytest.raises(EvaluationError, match="dance_tf.metrics.flaky is not available"):
        evaluate_model(model, x, metrics=["flaky"], out=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _rows(values: dict, direction: dict) -> list[dict]:
    """Rows of method "m" from {(metric, variant): [value per input]}."""
    return [{"index": i, "method": "m", "variant": v, "metric": metric, "value": float(x),
             "direction": direction[metric], "target": 0}
            for (metric, v), vals in values.items() for i, x in enumerate(vals)]


def test_holm_verdicts_hand_worked():
    base = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    up = base + np.array([1.0, 1.1, 0.9, 1.05, 0.95])       # clearly higher with decoys
    noisy = base + np.array([0.1, -0.1, 0.05, -0.02, 0.0])  # no clear change
    values = {("acc", "none"): base, ("acc", "decoys"): up,
              ("err", "none"): base, ("err", "decoys"): up,
              ("flat", "none"): base, ("flat", "decoys"): noisy}
    direction = {"acc": "higher", "err": "lower", "flat": "higher"}
    result = CardResult(_rows(values, direction))
    comps = {c.metric: c for c in result.comparisons}
    # raw two-sided paired p and the 95 % interval from scipy, Holm by hand
    ref = {m: stats.ttest_rel(values[(m, "decoys")], values[(m, "none")]) for m in comps}
    p = {m: ref[m].pvalue for m in comps}
    order = sorted(p, key=p.get)                          # acc and err tie
    holm, running = {}, 0.0
    for rank, m in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * p[m]))
        holm[m] = running
    assert holm["acc"] < 0.05 and holm["flat"] > 0.05
    for m, c in comps.items():
        assert c.n == 5
        np.testing.assert_allclose(c.p, p[m], rtol=1e-10)
        np.testing.assert_allclose(c.p_holm, holm[m], rtol=1e-10)
        ci = ref[m].confidence_interval(0.95)
        np.testing.assert_allclose([c.low, c.high], [ci.low, ci.high], rtol=1e-10)
    assert comps["acc"].verdict == "decoys better"     # higher is better, decoys higher
    assert comps["err"].verdict == "decoys worse"      # lower is better, decoys higher
    assert comps["flat"].verdict == "no difference"


def test_holm_hand_worked_numbers():
    from dance_tf.metrics.stats import holm

    # p sorted 0.01, 0.03, 0.04: × 3, × 2, × 1 → 0.03, 0.06, 0.04 → monotone 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.2, 0.001, 0.5, 0.012]),
                               [0.4, 0.004, 0.5, 0.036])


def test_matched_uses_two_n_times_the_samples(model, data, tmp_path):
    """SmoothGrad with s samples: the matched map is SmoothGrad with 2n × s samples."""
    x, y = data
    result = evaluate_model(model, x[:1], y[:1], methods=["smoothgrad"],
                            method_options={"smoothgrad": {"samples": 3, "noise": 0.1}},
                            variants=["matched"], metrics=["peak"], quiet=True,
                            log=lambda *_: None, **SMALL)
    (row,) = result.rows
    n2 = row["n_decoys"]
    det = Explainer(model, method="smoothgrad", method_options={"samples": 3, "noise": 0.1},
                    **SMALL).explain(x[0], int(y[0]), return_details=True)
    assert n2 == len(det.decoys) > 0
    want = smoothgrad(model, x[:1], y[:1], samples=3 * n2, noise=0.1, seed=0)
    np.testing.assert_allclose(row["value"], features(want).max(), rtol=1e-5)
    wrong = smoothgrad(model, x[:1], y[:1], samples=n2, noise=0.1, seed=0)
    assert not np.isclose(row["value"], features(wrong).max(), rtol=1e-5)


def test_command_line_on_a_keras_file_and_an_image_folder(tmp_path, monkeypatch, capsys):
    """``dance-tf evaluate --model FILE.keras --input FOLDER`` runs through evaluate_model."""
    from PIL import Image

    import dance_tf.evaluation.model_card as model_card
    from dance_tf.cli import main

    model = small_cnn(size=8, channels=3, classes=3)
    model.save(tmp_path / "m.keras")
    (tmp_path / "imgs").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((8, 8, 3)) * 255).astype("uint8")).save(
            tmp_path / "imgs" / f"im{i}.png")
    calls = []
    real = model_card.evaluate_model

    def spy(model, inputs, labels=None, **kw):
        calls.append((np.shape(inputs), kw["variants"], kw["metrics"]))
        return real(model, inputs, labels, **kw)

    monkeypatch.setattr(model_card, "evaluate_model", spy)
    out = tmp_path / "out"
    code = main(["evaluate", "--model", str(tmp_path / "m.keras"), "--input",
                 str(tmp_path / "imgs"), "--out", str(out), "--methods", "gradient",
                 "--variants", "none,decoys", "--metrics", "fidelity", "--option",
                 "patch_size=2", "--option", "patches_per_mask=8", "--quiet",
                 "--examples", "1"])
    assert code == 0
    assert calls == [((2, 8, 8, 3), ["none", "decoys"], {"fidelity": {"k": 0.2, "fill": 0.0}})]
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert sorted((r["index"], r["variant"]) for r in rows) == [
        (0, "decoys"), (0, "none"), (1, "decoys"), (1, "none")]
    assert "fidelity (lower is better)" in capsys.readouterr().out
    assert (out / "report.html").is_file()


def test_a_bad_explainer_option_stops_before_the_folder_is_written(model, data, tmp_path):
    x, _ = data
    with pytest.raises(ValueError, match="patch_size"):
        evaluate_model(model, x, metrics=["peak"], out=tmp_path / "o", quiet=True,
                       **{**SMALL, "patch_size": -1})
    assert not (tmp_path / "o").exists()


def test_matched_vargrad_is_vargrad_with_as_many_gradients():
    """The VarGrad form of the compute-matched baseline: for the gradient, VarGrad with 2n
    noise draws (one gradient each); for a user callable, the variance of its maps over
    2n noisy copies computed here."""
    import keras

    from dance_tf import saliency
    from dance_tf.evaluation.matched import matched_map

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    x = np.random.default_rng(1).random((6, 6, 1)).astype(np.float32)
    got = matched_map(model, x, 1, "gradient", {}, 8, "variance")
    want = saliency.get("vargrad", samples=8, noise=0.15, seed=0)(model, x[None],
                                                                  np.array([1]))[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)

    def squares(m, xs, ts):
        return np.asarray(xs) ** 2

    got = matched_map(model, x, 1, squares, {}, 5, "variance", seed=3)
    rng = np.random.default_rng(3)
    sigma = 0.15 * float(x.max() - x.min())
    copies = x[None] + sigma * rng.standard_normal((5,) + x.shape).astype(np.float32)
    np.testing.assert_allclose(got, (copies ** 2).var(axis=0), rtol=1e-5)


def test_inputs_of_several_lengths_run_one_by_one_like_the_explainer_by_hand():
    # a model with a variable axis (sentences): a list of inputs of two lengths, as the
    # SST task gives them; every row equals the Explainer and the metric called by hand
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, 4))
    h = keras.layers.Conv1D(5, 2, activation="relu", name="conv")(inp)
    out = keras.layers.Dense(2)(keras.layers.GlobalMaxPooling1D()(h))
    text = keras.Model(inp, out)
    rng = np.random.default_rng(3)
    xs = [rng.random((n, 4), dtype=np.float32) for n in (5, 7, 5)]
    opts = {"patch_size": 1, "patches_per_mask": 2, "value_range": (0.0, 1.0), "seed": 0}
    result = evaluate_model(text, xs, None, methods=["gradient"], variants=["none", "decoys"],
                            metrics={"peak": {}, "fidelity_continuous": {}}, quiet=True,
                            examples=0, log=lambda *_: None, **opts)
    got = {(r["index"], r["variant"], r["metric"]): r["value"] for r in result.rows}
    assert len(got) == 3 * 2 * 2
    ex = Explainer(text, method="gradient", **opts)
    for i, x in enumerate(xs):
        c = int(np.argmax(text(x[None]).numpy()[0]))
        for v, sal in (("none", ex.base_map(x, c)), ("decoys", ex.explain(x, c))):
            f = features(sal)[None]
            np.testing.assert_allclose(got[(i, v, "peak")], f.max(), rtol=1e-5)
            np.testing.assert_allclose(got[(i, v, "fidelity_continuous")],
                                       fidelity_continuous(text, x[None], f, [c])[0],
                                       rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match=r"inputs\[1\]: expected shape"):
        evaluate_model(text, [xs[0], np.zeros((5, 3), np.float32)], methods=["gradient"],
                       variants=["none"], metrics={"peak": {}}, quiet=True, **opts)


def test_report_off_writes_rows_only_and_flags_are_booleans(model, data, tmp_path):
    x, _ = data
    out = tmp_path / "card"
    evaluate_model(model, x[:2], methods=["gradient"], variants=["none"], metrics=["peak"],
                   out=out, quiet=True, log=lambda *_: None, report=False, **SMALL)
    assert (out / "rows.jsonl").exists()
    assert not (out / "report.html").exists() and not (out / "report.md").exists()
    for name in ("report", "quiet"):
        with pytest.raises(TypeError, match=f"{name}: expected True or False"):
            evaluate_model(model, x[:2], methods=["gradient"], variants=["none"],
                           metrics=["peak"], log=lambda *_: None,
                           **{"quiet": True, **SMALL, name: "no"})


KILLED = """
import os, sys
import numpy as np
sys.path.insert(0, {repo!r})
from dance_tf.evaluation import evaluate_model
from dance_tf.evaluation.card_metrics import MetricSpec, register_metric
from tests.conftest import small_cnn
calls = []
def dies(maps):          # the 4th score: input 1's first map (the process is killed)
    calls.append(1)
    if len(calls) == 4:
        os._exit(9)
    return np.asarray(maps).reshape(len(maps), -1).max(axis=1)
register_metric(MetricSpec("dies", "maps", "higher", fn=dies))
x = np.random.default_rng(0).uniform(0, 1, (3, 8, 8, 1)).astype(np.float32)
evaluate_model(small_cnn(size=8, classes=3), x, methods=["gradient"],
               variants=["none", "decoys", "matched"], metrics=["dies"], out={out!r},
               examples=2, quiet=True, patch_size=2, patches_per_mask=8,
               value_range=(0.0, 1.0), seed=0)
"""


def test_a_killed_run_keeps_the_example_maps_it_computed(tmp_path):
    """kill -9 skips every finally: the maps of input 0 (three rows written) must be in
    examples.npz already, since a resumed run does not recompute a finished row's map."""
    import subprocess
    import sys
    from pathlib import Path

    from dance_tf.evaluation.card_examples import read_examples

    out = tmp_path / "killed"
    script = KILLED.format(repo=str(Path(__file__).resolve().parents[2]), out=str(out))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 9, done.stderr[-2000:]
    assert len((out / "rows.jsonl").read_text().splitlines()) == 3
    saved = read_examples(out)
    assert {k for k in saved if k.startswith("map__0__")} == {
        f"map__0__gradient__{v}" for v in ("none", "decoys", "matched")}
    assert "x__0" in saved
