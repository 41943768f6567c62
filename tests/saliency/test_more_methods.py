"""Extra base methods of S9 against independent computations: VarGrad and SmoothGrad-range
against an explicit loop over the same noisy copies, Expected Gradients against IG from its
single reference, IG with a uniform baseline against the linear closed form, Grad-CAM
against a hand computation on a tiny conv net."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.saliency import resolve_method
from dance_tf.saliency.expected_gradients import expected_gradients
from dance_tf.saliency.gradcam import gradcam
from dance_tf.saliency.ig_uniform import ig_uniform
from dance_tf.saliency.integrated_gradients import integrated_gradients
from dance_tf.saliency.smoothgrad import smoothgrad
from dance_tf.saliency.smoothgrad_range import smoothgrad_range
from dance_tf.saliency.vargrad import vargrad


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="tanh"),
                             keras.layers.Dense(3)])


@pytest.fixture(scope="module")
def linear():
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def _grad(model, x, c):
    xt = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = model(xt)[:, c]
    return tape.gradient(out, xt).numpy()


def _noisy_grads_loop(model, x, targets, samples, noise, seed):
    """Explicit loop: σ = noise·(max − min) per input, noise from stateless seed [seed, i]."""
    sigma = noise * (x.max(1) - x.min(1))[:, None]
    out = []
    for i in range(samples):
        eps = tf.random.stateless_normal(x.shape, seed=[seed, i]).numpy()
        xi = x + sigma * eps
        out.append(np.stack([_grad(model, xi[n:n + 1], targets[n])[0] for n in range(len(x))]))
    return np.stack(out)  # (S, N, F)


def test_vargrad_range_and_smoothgrad_match_explicit_loop(mlp):
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    t = np.array([0, 2, 1])
    g = _noisy_grads_loop(mlp, x, t, samples=7, noise=0.2, seed=3)
    # batch_size 8 → 2 samples per chunk: chunking is exercised
    np.testing.assert_allclose(vargrad(mlp, x, t, samples=7, noise=0.2, seed=3, batch_size=8),
                               g.var(0), rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(
        smoothgrad_range(mlp, x, t, samples=7, noise=0.2, seed=3, batch_size=8),
        g.max(0) - g.min(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(smoothgrad(mlp, x, t, samples=7, noise=0.2, seed=3),
                               g.mean(0), rtol=1e-4, atol=1e-6)
    assert np.all(vargrad(mlp, x, t, samples=1) == 0.0)


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


def test_ig_uniform_linear_closed_form(linear):
    x = np.random.default_rng(5).normal(size=(2, 4)).astype("float32")
    w = linear.layers[-1].kernel.numpy()
    narrow = ig_uniform(linear, x, [1, 1], baseline_range=(0.5, 0.5 + 1e-6))
    np.testing.assert_allclose(narrow, (x - 0.5) * w[:, 1], rtol=1e-4, atol=1e-5)
    many = ig_uniform(linear, x, [1, 1], samples=2000, steps=2, baseline_range=(0.0, 1.0),
                      batch_size=8000)
    np.testing.assert_allclose(many, (x - 0.5) * w[:, 1], atol=0.03 * np.abs(w).max())


def _conv_net(nested: bool):
    keras.utils.set_random_seed(6)
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")
    inp = keras.Input((6, 6, 2))
    if nested:
        block = keras.Sequential([keras.Input((6, 6, 2)), conv], name="block")
        h = block(inp)
    else:
        h = conv(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(h))
    # mixed-sign class weights: the weighted sum has both signs and the ReLU clips
    model.get_layer("head").kernel.assign([[1.0, -0.5, 2.0], [-0.7, 1.5, 0.3]])
    return model, conv


def _hand_cam(conv, head, x, c):
    """A by an explicit zero-padded 3×3 correlation; logit = Σ_k W_kc mean(A_k) + b, so
    ∂logit/∂A_k = W_kc / (h·w) and α_k = W_kc / (h·w)."""
    k, b = conv.kernel.numpy(), conv.bias.numpy()
    pad = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    act = np.zeros((6, 6, 2))
    for i in range(6):
        for j in range(6):
            for f in range(2):
                act[i, j, f] = np.sum(pad[i:i + 3, j:j + 3, :] * k[:, :, :, f]) + b[f]
    act = np.maximum(act, 0)
    alpha = head.kernel.numpy()[:, c] / 36.0
    return np.maximum((act * alpha).sum(-1), 0)


@pytest.mark.parametrize("nested", [False, True])
def test_gradcam_hand_computation(nested):
    model, conv = _conv_net(nested)
    head = model.get_layer("head")
    x = np.random.default_rng(7).normal(size=(2, 6, 6, 2)).astype("float32")
    t = np.array([0, 2])
    cam = gradcam(model, x, t, layer="conv")
    assert cam.shape == x.shape
    for n in range(2):
        want = _hand_cam(conv, head, x[n], t[n])
        assert want.max() > 0
        for ch in range(2):  # same size: the bilinear resize is the identity
            np.testing.assert_allclose(cam[n, :, :, ch], want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gradcam(model, x, t, layer="conv", resize=False), cam[..., 0],
                               rtol=1e-5, atol=1e-7)


def test_gradcam_resizes_coarse_layers():
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((8, 8, 3)),
                              keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(name="pool"), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(9).random((2, 8, 8, 3)).astype("float32")
    raw = gradcam(model, x, [0, 1], layer="pool", resize=False)
    assert raw.shape == (2, 4, 4)
    full = gradcam(model, x, [0, 1], layer="pool")
    # bilinear, half-pixel centres: output pixel (2i + ½) sits exactly on raw pixel i, so
    # interior pixels are ¾·raw[i] + ¼·raw[i ± 1]; check row 2 ↔ raw rows 1 and 0
    expect_row2 = 0.75 * raw[:, 1] + 0.25 * raw[:, 0]
    cols = 0.75 * expect_row2[:, 1] + 0.25 * expect_row2[:, 0]  # column 2
    np.testing.assert_allclose(full[:, 2, 2, 0], cols, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(full[..., 0], full[..., 2])


@pytest.mark.parametrize("name", ["expected_gradients", "vargrad", "smoothgrad_range",
                                  "ig_uniform", "gradcam"])
def test_registered_and_graph_safe(name):
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((6, 6, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu", name="c"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    _, fn = resolve_method(name)
    x = np.random.default_rng(11).random((2, 6, 6, 1)).astype("float32")
    out = fn(model, x, [0, 1])
    assert isinstance(out, np.ndarray) and out.shape == x.shape and np.all(np.isfinite(out))

    @tf.function
    def inside(a, b):
        return fn(model, a, b)

    got = inside(tf.constant(x), tf.constant([0, 1]))
    assert tf.is_tensor(got)
    np.testing.assert_allclose(got.numpy(), out, rtol=1e-4, atol=1e-6)


def test_extra_methods_run_under_dance():
    import dance_tf

    keras.utils.set_random_seed(12)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              keras.layers.Conv2D(3, 3, padding="same", activation="relu",
                                                  name="c1"),
                              keras.layers.MaxPooling2D(name="p1"), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(13).random((6, 6, 2)).astype("float32")
    runs = {"expected_gradients": {"samples": 2, "baseline_range": (0.0, 1.0)},
            "vargrad": {"samples": 2}, "smoothgrad_range": {"samples": 2},
            "ig_uniform": {"steps": 2, "baseline_range": (0.0, 1.0)},
            "gradcam": {"layer": "c1"}}
    for name, opts in runs.items():
        e = dance_tf.explain(model, x, method=name, value_range=(0.0, 1.0),
                             patches_per_mask=8, **opts)
        assert e.shape == x.shape and np.all(np.isfinite(e)) and np.all(e >= 0), name
