"""Expected Gradients (S9): exact on a linear model, IG from its single reference in
expectation, and uniform references inside the baseline range."""

import numpy as np

from dance_tf.saliency.expected_gradients import expected_gradients
from dance_tf.saliency.integrated_gradients import integrated_gradients


def test_expected_gradients_linear_is_exact(linear):
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    r = np.random.default_rng(2).normal(size=(1, 4)).astype("float32")
    w = linear.layers[-1].kernel.numpy()
    eg = expected_gradients(linear, x, [1, 0, 1], references=r, samples=5)
    np.testing.assert_allclose(eg, (x - r) * w[:, [1, 0, 1]].T, rtol=1e-5, atol=1e-6)


def test_expected_gradients_single_reference_is_ig_in_expectation(mlp):
    x = np.random.default_rng(3).normal(size=(2, 5)).astype("float32")
    r = np.random.default_rng(4).normal(size=(1, 5)).astype("float32")
    t = np.array([1, 2])
    ig = integrated_gradients(mlp, x, t, steps=400, baseline=r)
    eg = expected_gradients(mlp, x, t, references=r, samples=4000, batch_size=4000)
    # Monte Carlo over α: the per-sample spread is below max|IG|, so 4000 samples leave
    # an error well under 5% of it
    assert np.abs(eg - ig).max() < 0.05 * np.abs(ig).max()
    assert np.abs(ig).max() > 0.1
    # completeness: Σ EG ≈ F(x) − F(r)
    logits = mlp(x).numpy()
    np.testing.assert_allclose(eg.sum(1), logits[[0, 1], t] - mlp(r).numpy()[0, t], atol=0.05)


def test_expected_gradients_uniform_references_stay_in_range(linear):
    x = np.full((2, 4), 0.9, dtype="float32")
    w = linear.layers[-1].kernel.numpy()
    eg = expected_gradients(linear, x, [0, 0], samples=3000, baseline_range=(0.0, 1.0))
    # E[x − U(0, 1)] = x − 0.5 for a linear model
    np.testing.assert_allclose(eg, (x - 0.5) * w[:, 0], atol=0.03 * np.abs(w).max())
