"""dance_tf.metrics.complexity: sparseness (Gini) by hand and by the mean-difference form."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import sparseness


def test_one_hot_uniform_and_a_hand_worked_map():
    n = 12
    one_hot = np.zeros((1, 3, 4))
    one_hot[0, 1, 2] = -7.0                       # the sign does not matter (|map|)
    uniform = np.full((1, 3, 4), 0.3)
    got = sparseness(np.concatenate([one_hot, uniform]))
    np.testing.assert_allclose(got, [(n - 1) / n, 0.0], atol=1e-12)
    # [0, 0, 1, 3]: Σ (2i − n − 1) a_(i) / (n Σ a) = (1 + 9) / 16
    assert sparseness(np.array([[3.0, 0.0, -1.0, 0.0]]))[0] == pytest.approx(0.625)


def test_against_the_mean_absolute_difference_form():
    # G = Σ_i Σ_j |a_i − a_j| / (2 n² mean(a)), a different formula for the same index
    maps = np.random.default_rng(0).normal(size=(5, 4, 3, 2))
    a = np.abs(maps.reshape(5, -1))
    n = a.shape[1]
    expect = np.abs(a[:, :, None] - a[:, None, :]).sum(axis=(1, 2)) / (2 * n * n * a.mean(1))
    np.testing.assert_allclose(sparseness(maps), expect, rtol=1e-10)


def test_zero_maps_and_bad_input():
    with pytest.warns(RuntimeWarning, match="sparseness"):
        got = sparseness(np.zeros((2, 4)))
    assert np.all(np.isnan(got))
    with pytest.raises(InputError, match="maps"):
        sparseness(np.array([[1.0, np.nan]]))
    with pytest.raises(InputError, match="maps"):
        sparseness(np.ones(4))
    with pytest.raises(InputError, match="maps"):
        sparseness(np.ones((3, 1)))
