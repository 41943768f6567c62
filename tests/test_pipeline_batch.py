"""The decoys of several inputs optimised as one batch (``pipeline.pipeline_body`` for a
group of G inputs, run by ``pipeline_batch``) against an independent path: each input
explained alone (``Explainer.explain``, a group of one, through its own compiled graph).
A wrong owner of an item, a statistic folded into another input's row, a target or ε
taken from the wrong input, or padding that leaks into a real input all change a map."""

import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import pipeline_batch
from tests.conftest import small_cnn

SHAPE = (12, 12, 1)
OPTS = {"patches_per_mask": 20, "stride": 2}


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture(scope="module")
def xs():
    rng = np.random.default_rng(3)
    # different ranges per input: a per-input [min, max] and ε must stay per input
    scale = np.array([1.0, 0.5, 2.0, 0.25, 1.5], np.float32)[:, None, None, None]
    return (rng.random((5,) + SHAPE, dtype=np.float32) * scale).astype(np.float32)


def run_group(ex, xs, targets, group):
    fn = pipeline_batch.compiled_batch(ex, SHAPE, group)
    out = fn(tf.constant(xs), tf.constant(targets, tf.int32))
    return {k: v.numpy() for k, v in out.items()}


@pytest.mark.parametrize("variant", [
    {}, {"aggregation": "mean"}, {"aggregation": "range_covering"},
    {"perturbation": "constant"}, {"perturbation": "noise"}, {"solver": "adam", "max_steps": 4},
    {"method": "smoothgrad", "method_options": {"samples": 3}},
])
def test_a_group_equals_each_input_alone(model, xs, variant):
    ex = dance_tf.Explainer(model, **OPTS, **variant)
    targets = [-1, 2, 0, -1, 3]
    alone = [ex.explain(x, None if t < 0 else t, return_details=True)
             for x, t in zip(xs, targets)]
    for group in (3, 5):  # 5 inputs: groups of 3 pad the second group with a copy
        out = run_group(ex, xs, targets, group)
        for i, e in enumerate(alone):
            np.testing.assert_allclose(out["saliency"][i], e.saliency, rtol=1e-5, atol=1e-6,
                                       err_msg=f"input {i}, group {group}")
            assert out["target"][i] == e.target
            if variant.get("perturbation", "decoys") == "decoys":
                assert out["fraction_certified"][i] == pytest.approx(e.certified.mean())
                assert out["fraction_moved"][i] == pytest.approx(e.moved.mean())


def test_inputs_do_not_share_their_range_or_epsilon(xs):
    """An input scaled ×4 next to the original in one group (tanh: maps are not scale
    invariant): each gets its own range and ε, so its map is its own."""
    ex = dance_tf.Explainer(small_cnn(activation="tanh"), **OPTS)
    pair = np.stack([xs[0], xs[0] * 4.0])
    out = run_group(ex, pair, [1, 1], 2)["saliency"]
    np.testing.assert_allclose(out[1], ex.explain(pair[1], 1), rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0], out[1], rtol=1e-3)


def test_call_groups_as_many_inputs_as_the_budget_holds(model, xs, monkeypatch):
    groups = []
    build = pipeline_batch.compiled_batch
    monkeypatch.setattr(pipeline_batch, "compiled_batch",
                        lambda ex, shape, group=None: groups.append(group) or build(
                            ex, shape, group))
    ex = dance_tf.Explainer(model, value_range=(0.0, 2.0), **OPTS)
    plan = ex.plan(SHAPE, *pipeline_batch.static_range(ex, SHAPE))
    assert ex.inputs_in_flight(plan) > 1  # this test is about groups
    maps = ex(xs)
    np.testing.assert_allclose(maps, np.stack([ex.explain(x) for x in xs]), rtol=1e-5,
                               atol=1e-6)
    assert groups and all(group > 1 for group in groups)
