"""dance_tf.metrics.deletion: curves and areas worked by hand on a linear model."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import (
    deletion_auc,
    deletion_curve,
    insertion_auc,
    insertion_curve,
)
from tests.metrics.linear_models import W, linear_model

# W (linear_models): class 0 w = (1, 2, −1, 0.5); x = (1, 2, 3, 4) → w∘x = (1, 4, −3, 2)
X = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
MAP = np.array([[0.1, 0.4, 0.3, 0.2]])            # order: feature 1, 2, 3, 0
T = np.array([0])


def test_deletion_and_insertion_logit_curves_by_hand():
    model = linear_model(W, (4,))
    d = deletion_curve(model, X, MAP, T, steps=4, output="logit")
    np.testing.assert_allclose(d.fractions, [0, 0.25, 0.5, 0.75, 1])
    # remove f1 (4) → 0, then f2 (−3) → 3, then f3 (2) → 1, then f0 (1) → 0
    np.testing.assert_allclose(d.scores, [[4, 0, 3, 1, 0]], atol=1e-6)
    ins = insertion_curve(model, X, MAP, T, steps=4, output="logit")
    np.testing.assert_allclose(ins.scores, [[0, 4, 1, 3, 4]], atol=1e-6)
    # trapezoids, Δ = 1/4
    assert deletion_auc(model, X, MAP, T, steps=4, output="logit")[0] == pytest.approx(1.5)
    assert insertion_auc(model, X, MAP, T, steps=4, output="logit")[0] == pytest.approx(2.5)
    area, curve = deletion_auc(model, X, MAP, T, steps=4, output="logit", return_curve=True)
    assert area[0] == pytest.approx(1.5)
    np.testing.assert_allclose(curve, [[4, 0, 3, 1, 0]], atol=1e-6)


def test_probability_is_the_softmax_of_the_target_and_a_softmax_model_is_not_doubled():
    d = deletion_curve(linear_model(W, (4,)), X, MAP, T, steps=4)
    sig = 1 / (1 + np.exp(-np.array([4.0, 0, 3, 1, 0])))   # 2 classes, logit 1 = 0
    np.testing.assert_allclose(d.scores[0], sig, rtol=1e-6)
    soft = deletion_curve(linear_model(W, (4,), softmax=True), X, MAP, T, steps=4)
    np.testing.assert_allclose(soft.scores, d.scores, rtol=1e-6)
    logit = deletion_curve(linear_model(W, (4,), softmax=True), X, MAP, T, steps=4,
                           output="logit")
    np.testing.assert_allclose(logit.scores, [[4, 0, 3, 1, 0]], atol=1e-6)


def test_uneven_steps_baseline_and_per_pixel_maps():
    # steps = 3 of n = 4 features: ⌊k·4/3⌋ = 0, 1, 2, 4 removed
    model = linear_model(W, (4,))
    d = deletion_curve(model, X, MAP, T, steps=3, baseline=1.0, output="logit")
    np.testing.assert_allclose(d.fractions, [0, 0.25, 0.5, 1])
    # removed features take 1: f1 → w·(1,1,3,4) = 1+2−3+2 = 2; + f2 → 1+2−1+2 = 4; all → 2.5
    np.testing.assert_allclose(d.scores, [[4, 2, 4, 2.5]], atol=1e-6)
    # a (2, 2, 2) image with a per-pixel (2, 2) map: both channels of a pixel go together
    w = np.arange(8, dtype=np.float64).reshape(8, 1) - 3          # flat order (h, w, c)
    img = np.ones((1, 2, 2, 2), np.float32)
    pix = np.array([[[0.0, 3.0], [2.0, 1.0]]])                     # pixels (0,1), (1,0), ...
    contrib = (w[:, 0] * 1.0).reshape(2, 2, 2).sum(axis=-1)       # [[-5, -1], [3, 7]]
    got = deletion_curve(linear_model(np.hstack([w, 0 * w]), (2, 2, 2)), img, pix, T,
                         steps=4, output="logit").scores[0]
    total = contrib.sum()
    expect = [total, total - contrib[0, 1], total - contrib[0, 1] - contrib[1, 0],
              contrib[0, 0], 0.0]
    np.testing.assert_allclose(got, expect, atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"), ({"batch_size": 0}, "batch_size"),
    ({"baseline": np.nan}, "baseline"), ({"baseline": np.zeros(3)}, "baseline"),
    ({"output": "prob"}, "output"),
])
def test_options_are_validated(kwargs, match):
    with pytest.raises(InputError, match=match):
        deletion_auc(linear_model(W, (4,)), X, MAP, T, **kwargs)


def test_arguments_are_validated():
    model = linear_model(W, (4,))
    with pytest.raises(TypeError, match="steps"):
        deletion_auc(model, X, MAP, T, steps=True)
    with pytest.raises(InputError, match="maps"):
        deletion_auc(model, X, MAP[:, :3], T)
    with pytest.raises(InputError, match="maps"):
        deletion_auc(model, X, np.full((1, 4), np.inf), T)
    with pytest.raises(InputError, match="targets"):
        deletion_auc(model, X, MAP, np.array([2]))
    with pytest.raises(InputError, match="targets"):
        deletion_auc(model, X, MAP, np.array([0, 1]))
    with pytest.raises(TypeError, match="targets"):
        insertion_auc(model, X, MAP, np.array([0.5]))
    with pytest.raises(InputError, match="x"):
        insertion_auc(model, np.full((1, 4), np.nan), MAP, T)
