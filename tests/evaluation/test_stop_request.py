"""A time limit stops a run between rows: the row being computed is written, no later one
is started, and a rerun completes without duplicates (the ``reproduce.py --minutes`` path,
which once stopped by a signal raised inside TensorFlow's tracing)."""

import threading
import time

import numpy as np
import pytest

from dance_tf.evaluation import cli as ev_cli
from dance_tf.evaluation import evaluate_model, runner, stop_request
from dance_tf.evaluation.config import EvalConfig
from tests.conftest import small_cnn
from tests.evaluation.conftest import result_lines, tiny_task

pytestmark = pytest.mark.filterwarnings("ignore::dance_tf.explanation.DecoyWarning")


def _evaluate(out, task):
    args = ev_cli.parse(["--out", str(out), "--methods", "gradient", "--variants", "none",
                         "--quiet", "--examples", "0"])
    runner.evaluate(task, EvalConfig.from_namespace(args), log=lambda *_: None)


def test_a_stop_asked_before_the_first_row_keeps_exactly_that_row(tmp_path):
    task = tiny_task(n=3)
    with stop_request.stop_after(None):
        stop_request.request_stop()
        with pytest.raises(stop_request.StopRequested):
            _evaluate(tmp_path / "out", task)
    assert len(result_lines(tmp_path / "out")) == 1      # written, and nothing after it
    stop_request.check()                                  # withdrawn on leaving
    _evaluate(tmp_path / "out", task)                     # a rerun resumes
    lines = result_lines(tmp_path / "out")
    assert len(lines) == 3 and len({r["id"] for r in lines}) == 3


def test_evaluate_model_stops_after_the_first_map_and_its_scores(tmp_path):
    x = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    common = dict(methods=["gradient"], variants=["none", "decoys"],
                  metrics={"fidelity": {"k": 0.25}, "fidelity_continuous": {}},
                  out=tmp_path / "card", quiet=True, examples=0, log=lambda *_: None,
                  patch_size=2, patches_per_mask=8, value_range=(0.0, 1.0), seed=0)
    model = small_cnn(size=8, classes=3)
    with stop_request.stop_after(None):
        stop_request.request_stop()
        with pytest.raises(stop_request.StopRequested):
            evaluate_model(model, x, None, **common)
    rows = (tmp_path / "card" / "rows.jsonl").read_text().splitlines()
    assert len(rows) == 2                       # one map, both its metrics
    result = evaluate_model(model, x, None, **common)
    assert len(result.rows) == 3 * 2 * 2


def test_the_timer_asks_for_a_stop_and_leaving_withdraws_it():
    t0 = time.perf_counter()
    with pytest.raises(stop_request.StopRequested):
        with stop_request.stop_after(0.05):
            while time.perf_counter() - t0 < 10:
                stop_request.check()
                time.sleep(0.005)
    assert time.perf_counter() - t0 < 5
    stop_request.check()
    with stop_request.stop_after(60):   # a long limit never fires within the block
        stop_request.check()


@pytest.mark.parametrize("seconds", [0, -1.0, float("nan"), float("inf"), True, "60", [60]])
def test_a_limit_that_is_not_a_positive_number_is_refused(seconds):
    with pytest.raises(ValueError, match="seconds"):
        with stop_request.stop_after(seconds):
            pass


def test_a_nested_limit_is_refused_and_the_outer_one_still_fires():
    t0 = time.perf_counter()
    with pytest.raises(stop_request.StopRequested):
        with stop_request.stop_after(0.05):
            with pytest.raises(RuntimeError, match="nest"):
                with stop_request.stop_after(60):
                    pass
            while time.perf_counter() - t0 < 10:
                stop_request.check()
                time.sleep(0.005)
    assert time.perf_counter() - t0 < 5
    with stop_request.stop_after(60):   # leaving the outer block closed it
        stop_request.check()


def test_a_timer_that_cannot_start_leaves_the_block_closed(monkeypatch):
    def cannot_start(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Timer, "start", cannot_start)
    with pytest.raises(RuntimeError, match="start new thread"):
        with stop_request.stop_after(5):
            pass
    monkeypatch.undo()
    with stop_request.stop_after(5):    # not refused as nested
        stop_request.check()
