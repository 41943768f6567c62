"""dance_tf.metrics.randomisation: efficient MPRT against entropies worked independently."""

import numpy as np
import pytest
from scipy import stats

from dance_tf.metrics import efficient_mprt
from dance_tf.metrics.randomisation import histogram_entropy
from tests.metrics.linear_models import linear_model


def grad_times_input(seen):
    def method(model, x, t):
        w = model.layers[-1].get_weights()[0]
        maps = w[:, t].T.reshape(x.shape) * x
        seen.append(maps)
        return maps
    return method


def test_histogram_entropy_by_hand():
    # |map| = 1, 1, 3, 3 over 4 bins: two filled bins, half each → ln 2
    assert histogram_entropy(np.array([[1.0, -1.0, 3.0, 3.0]]), bins=4)[0] == \
        pytest.approx(np.log(2))
    # 3 : 1 → −(¾ ln ¾ + ¼ ln ¼); a constant map → 0
    got = histogram_entropy(np.array([[0.0, 0.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]]), bins=10)
    np.testing.assert_allclose(got, [-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)), 0.0])


def test_efficient_mprt_is_the_relative_rise_of_entropy():
    w = np.zeros((16, 2))
    w[:, 0] = np.repeat([1.0, 2.0], 8)            # two values → entropy ln 2 (x = 1)
    w[:, 1] = np.linspace(-1, 1, 16)
    model = linear_model(w, (16,))
    x = np.ones((1, 16), np.float32)
    seen = []
    got = efficient_mprt(model, x, np.array([0]), grad_times_input(seen), bins=8, seed=3)
    before, after = (np.abs(m[0]) for m in seen)
    h0 = stats.entropy(np.histogram(before, bins=8)[0])
    h1 = stats.entropy(np.histogram(after, bins=8)[0])
    assert h0 == pytest.approx(np.log(2))
    assert got[0] == pytest.approx((h1 - h0) / h0)
    assert got[0] > 0                              # the random kernel spreads the map
    np.testing.assert_array_equal(model.layers[-1].get_weights()[0], w.astype(np.float32))


def test_in_place_restores_the_weights_and_a_constant_map_is_nan():
    w = np.random.default_rng(0).normal(size=(6, 2))
    model = linear_model(w, (6,))
    x = np.random.default_rng(1).normal(size=(2, 6)).astype(np.float32)
    a = efficient_mprt(model, x, np.array([0, 1]), grad_times_input([]), seed=1,
                       in_place=True)
    np.testing.assert_array_equal(model.layers[-1].get_weights()[0], w.astype(np.float32))
    b = efficient_mprt(model, x, np.array([0, 1]), grad_times_input([]), seed=1)
    np.testing.assert_allclose(a, b)
    with pytest.warns(RuntimeWarning, match="efficient_mprt"):
        got = efficient_mprt(model, x, np.array([0, 1]), lambda m, v, t: np.ones_like(v))
    assert np.all(np.isnan(got))
    with pytest.raises(TypeError, match="method"):
        efficient_mprt(model, x, np.array([0, 1]), "gradient")
    with pytest.raises(ValueError, match="bins"):
        efficient_mprt(model, x, np.array([0, 1]), grad_times_input([]), bins=0)
