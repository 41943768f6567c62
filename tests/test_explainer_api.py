"""The one-shape API (issue 15): base methods as objects with their own options, a batch
``Explainer.__call__``, ``base_map`` and the cached ``dance_tf.explain`` (its typed
errors: test_errors.py).

Each comparison is against an independent path: the base method called directly, or a
user callable with the option hard-wired, or the single-input call stacked by hand.
"""

import warnings

import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import explainer as explainer_module
from dance_tf import saliency
from dance_tf.model_contract import logits_model
from dance_tf.saliency.gradcam import gradcam
from dance_tf.saliency.smoothgrad import smoothgrad
from tests.conftest import small_cnn

OPTS = {"value_range": (0, 1), "patches_per_mask": 50}


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture
def xs():
    return np.random.default_rng(20).random((3, 12, 12, 1)).astype(np.float32)


def gradcam_conv1(model, inputs, targets):
    return gradcam(model, inputs, targets, layer="conv1")


def smoothgrad_seed5(model, inputs, targets):
    return smoothgrad(model, inputs, targets, samples=4, seed=5)


def test_gradcam_layer_is_the_base_methods_not_the_explainers(model, xs):
    """method_options={"layer": ...} reaches Grad-CAM; ℓ stays the explainer's (pool1)."""
    x = xs[0]
    hard = dance_tf.Explainer(model, method=gradcam_conv1, **OPTS).explain(x, target=2,
                                                                           return_details=True)
    assert hard.saliency.max() > 0   # class 2 has a Grad-CAM signal at both layers
    for e in (dance_tf.Explainer(model, method="gradcam", method_options={"layer": "conv1"},
                                 **OPTS),
              dance_tf.Explainer(model, base=saliency.get("gradcam", layer="conv1"), **OPTS)):
        r = e.explain(x, target=2, return_details=True)
        assert r.layer == "pool1" and e.method_options == {"layer": "conv1"}
        np.testing.assert_allclose(r.saliency, hard.saliency, rtol=1e-5, atol=1e-6)
    other = dance_tf.Explainer(model, method="gradcam", method_options={"layer": "conv2"},
                               **OPTS).explain(x, target=2)
    # the option changes the map
    assert np.abs(other - hard.saliency).max() > 0.05 * hard.saliency.max()


def test_smoothgrad_seed_is_the_base_methods_not_the_explainers(model, xs):
    x = xs[1]
    hard = dance_tf.Explainer(model, method=smoothgrad_seed5, **OPTS).explain(x, target=2)
    got = dance_tf.Explainer(model, method="smoothgrad", seed=0,
                             method_options={"samples": 4, "seed": 5}, **OPTS).explain(x, 2)
    np.testing.assert_allclose(got, hard, rtol=1e-5, atol=1e-6)
    seed0 = dance_tf.Explainer(model, method="smoothgrad",
                               method_options={"samples": 4, "seed": 0}, **OPTS).explain(x, 2)
    assert np.abs(seed0 - hard).max() > 1e-5


def test_option_conflicts_and_unknown_options_are_refused(model):
    with pytest.raises(TypeError, match="given twice"):
        dance_tf.Explainer(model, method="smoothgrad", samples=3,
                           method_options={"samples": 4})
    with pytest.raises(TypeError, match="one of them"):
        dance_tf.Explainer(model, method="smoothgrad", base=saliency.get("gradient"))
    with pytest.raises(TypeError, match="did you mean 'samples'"):
        saliency.get("smoothgrad", sampels=3)
    with pytest.raises(TypeError, match="method_options"):
        dance_tf.Explainer(model, method_options=[("samples", 3)])


def test_call_takes_a_batch_a_tensor_and_a_dataset(model, xs):
    e = dance_tf.Explainer(model, **OPTS)
    singles = np.stack([e.explain(x, target=t) for x, t in zip(xs, [0, 1, 2])])
    np.testing.assert_allclose(e(xs, [0, 1, 2]), singles, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(e(tf.constant(xs), [0, 1, 2]), singles, rtol=1e-6, atol=1e-7)
    batched = tf.data.Dataset.from_tensor_slices(xs).batch(2)
    np.testing.assert_allclose(e(batched, [0, 1, 2]), singles, rtol=1e-6, atol=1e-7)
    unbatched = tf.data.Dataset.from_tensor_slices(xs)
    np.testing.assert_allclose(e(unbatched, [0, 1, 2]), singles, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(e(xs[0], 0), singles[0], rtol=1e-6, atol=1e-7)
    details = e(xs[:2], 1, return_details=True)
    assert [d.target for d in details] == [1, 1]
    pred = np.argmax(model(xs).numpy(), axis=1)
    np.testing.assert_allclose(e(xs), np.stack([e.explain(x, target=int(t))
                                                for x, t in zip(xs, pred)]), rtol=1e-6)
    with pytest.raises(dance_tf.InputError, match="targets: expected 3"):
        e(xs, [0, 1])


def test_base_map_is_the_method_on_the_logits(model, xs):
    e = dance_tf.Explainer(model, method="smoothgrad", method_options={"samples": 3}, **OPTS)
    logits, _ = logits_model(model, xs.shape[1:])
    t = np.array([2, 0, 1])
    want = smoothgrad(logits, xs, t, samples=3)
    np.testing.assert_allclose(e.base_map(xs, t), want, rtol=1e-6)
    one = smoothgrad(logits, xs[1:2], np.array([0]), samples=3)[0]  # noise: item 0's
    np.testing.assert_allclose(e.base_map(xs[1], 0), one, rtol=1e-6)
    pred = np.argmax(model(xs).numpy(), axis=1)
    np.testing.assert_allclose(e.base_map(xs), smoothgrad(logits, xs, pred, samples=3),
                               rtol=1e-6)
    with pytest.raises(dance_tf.InputError, match="NaN"):
        e.base_map(np.full((12, 12, 1), np.nan, np.float32))


def test_explain_reuses_one_explainer_per_model_and_settings(model, xs):
    explainer_module.EXPLAINERS.clear()
    a = dance_tf.explain(model, xs[0], **OPTS)
    b = dance_tf.explain(model, xs[0], **OPTS)
    assert len(explainer_module.EXPLAINERS) == 1
    np.testing.assert_array_equal(a, b)
    first = next(iter(explainer_module.EXPLAINERS.values()))
    dance_tf.explain(model, xs[0], value_range=(0, 1), patches_per_mask=40)
    assert len(explainer_module.EXPLAINERS) == 2
    # array options are keyed by content, not by their (truncated) repr
    lo = np.zeros((12, 12, 1), np.float32)
    hi1, hi2 = np.ones_like(lo), np.ones_like(lo)
    hi2[5, 5, 0] = 0.999
    dance_tf.explain(model, xs[0], value_range=(lo, hi1), patches_per_mask=50)
    dance_tf.explain(model, xs[0], value_range=(lo, hi2), patches_per_mask=50)
    assert len(explainer_module.EXPLAINERS) == 4
    assert explainer_module.cached_explainer(model, **OPTS) is first
    other = small_cnn(seed=1)
    assert explainer_module.cached_explainer(other, **OPTS) is not first
    assert len(explainer_module.EXPLAINERS) <= explainer_module.EXPLAINERS_KEPT


def numpy_abs(model, inputs, targets):
    return np.abs(np.asarray(inputs) - 0.5)


def test_declared_numpy_method_runs_eagerly_without_a_first_failure(model, xs):
    base = saliency.get(saliency.numpy_method(numpy_abs))
    assert base.graph_safe is False
    e = dance_tf.Explainer(model, base=base, **OPTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # no "does not run inside a tf.function"
        r = e.explain(xs[0], target=0, return_details=True)
    maps = np.abs(r.decoys - 0.5)
    np.testing.assert_allclose(r.saliency, maps.max(0) - maps.min(0), atol=1e-6)
