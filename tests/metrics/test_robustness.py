"""dance_tf.metrics.robustness: max / avg sensitivity of linear map functions whose
worst case over the L∞ ball is known (Yeh et al. 2019)."""

import itertools

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import avg_sensitivity, max_sensitivity
from dance_tf.metrics.robustness import relative_changes

A = np.array([[2.0, -1.0], [0.5, 3.0], [1.0, 1.0]])     # Φ(x) = A x: 2 inputs → 3 values


def linear_fn(x, targets):
    return np.asarray(x, np.float64) @ A.T


def test_max_sensitivity_of_a_linear_map_approaches_the_vertex_bound_from_below():
    x = np.array([[1.0, 2.0], [-0.5, 0.3]], np.float32)
    r = 0.1
    # ‖A δ‖ is convex: its max over the L∞ ball is at a vertex δ ∈ {−r, r}²
    worst = max(np.linalg.norm(A @ (r * np.array(s))) for s in itertools.product((-1, 1),
                                                                              repeat=2))
    bound = worst / np.linalg.norm(x.astype(np.float64) @ A.T, axis=1)
    got = max_sensitivity(linear_fn, x, np.array([0, 0]), radius=r, samples=3000)
    assert np.all(got <= bound * (1 + 1e-6))
    assert np.all(got >= 0.97 * bound)
    # the operator-norm bound ‖A‖₂ · r√d / ‖A x‖ holds too
    assert np.all(got <= np.linalg.norm(A, 2) * r * np.sqrt(2) / np.linalg.norm(x @ A.T,
                                                                                axis=1))


def test_avg_sensitivity_in_one_dimension_is_r_over_2x():
    # Φ(x) = 3x: |3δ| / |3x| with δ ~ U[−r, r] has mean r / (2|x|)
    x = np.array([[2.0]], np.float32)
    got = avg_sensitivity(lambda v, t: 3 * np.asarray(v), x, np.array([0]), radius=0.5,
                          samples=20000, batch_size=5000)
    assert got[0] == pytest.approx(0.5 / (2 * 2.0), rel=0.02)


def test_perturbations_stay_in_the_ball_targets_follow_and_calls_are_batched():
    seen = []

    def spy(x, t):
        seen.append((np.array(x), np.array(t)))
        return np.asarray(x) * 1.0

    x = np.random.default_rng(0).normal(size=(3, 2, 2)).astype(np.float32)
    t = np.array([4, 5, 6])
    rel = relative_changes(spy, x, t, radius=0.25, samples=5, batch_size=4)
    assert rel.shape == (3, 5)
    assert [len(b) for b, _ in seen] == [3, 4, 4, 4, 3]        # x, then 15 rows by 4
    moved = np.concatenate([b for b, _ in seen[1:]])
    owners = np.repeat(np.arange(3), 5)
    assert np.all(np.abs(moved - x[owners]) <= 0.25 + 1e-6)
    np.testing.assert_array_equal(np.concatenate([u for _, u in seen[1:]]), t[owners])
    assert len(np.unique(moved.reshape(15, -1), axis=0)) == 15
    # Φ = identity: ‖δ‖ / ‖x‖, recomputed from the inputs the spy saw
    expect = np.linalg.norm((moved - x[owners]).reshape(15, -1), axis=1) / \
        np.linalg.norm(x[owners].reshape(15, -1), axis=1)
    np.testing.assert_allclose(rel.ravel(), expect, rtol=1e-5)


def test_seeded_and_independent_of_batch_size():
    x = np.random.default_rng(1).normal(size=(4, 2)).astype(np.float32)
    t = np.zeros(4, int)
    a = max_sensitivity(linear_fn, x, t, seed=3, batch_size=3)
    np.testing.assert_array_equal(a, max_sensitivity(linear_fn, x, t, seed=3, batch_size=64))
    assert not np.array_equal(a, max_sensitivity(linear_fn, x, t, seed=4))


def test_a_zero_map_is_nan_and_arguments_are_validated():
    x = np.ones((2, 2), np.float32)
    with pytest.warns(RuntimeWarning, match="sensitivity"):
        got = max_sensitivity(lambda v, t: np.zeros_like(v), x, np.array([0, 0]))
    assert np.all(np.isnan(got))
    for kwargs, match in [({"radius": 0}, "radius"), ({"radius": np.inf}, "radius"),
                          ({"samples": 0}, "samples"), ({"batch_size": -1}, "batch_size"),
                          ({"seed": 1.5}, "seed")]:
        with pytest.raises(InputError, match=match):
            max_sensitivity(linear_fn, x, np.array([0, 0]), **kwargs)
    with pytest.raises(TypeError, match="explain_fn"):
        avg_sensitivity("saliency", x, np.array([0, 0]))
    with pytest.raises(InputError, match="explain_fn"):
        avg_sensitivity(lambda v, t: np.ones((1, 3)), x, np.array([0, 0]))
    with pytest.raises(InputError, match="maps"):
        avg_sensitivity(lambda v, t: np.full((len(v), 3), np.nan), x, np.array([0, 0]))
