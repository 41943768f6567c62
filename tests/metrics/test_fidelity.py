"""dance_tf.metrics.fidelity: fidelity on logits and the continuous variant, hand-worked."""

import numpy as np


def test_fidelity_of_a_softmax_model_uses_its_logits():
    import keras

    from dance_tf.metrics import fidelity

    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    probs = keras.Sequential([base, keras.layers.Softmax()])
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    sal = np.random.default_rng(1).random((5, 4))
    t = np.array([0, 1, 2, 0, 1])
    np.testing.assert_allclose(fidelity(probs, x, sal, t), fidelity(base, x, sal, t),
                               rtol=1e-5)


def test_continuous_fidelity_hand_worked_on_a_linear_model():
    """Logits W·x of a 2×2×1 image: the scaled input μ + Ê(x − μ) is worked by hand."""
    import keras

    from dance_tf.metrics import fidelity_continuous

    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, use_bias=False)])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.0, 0.0]], np.float32)
    model.layers[-1].set_weights([w])
    x = np.array([[[[4.0], [0.0]], [[2.0], [2.0]]]], np.float32)       # μ = 2
    sal = np.array([[[2.0, -1.0], [0.0, 0.5]]], np.float32)            # Ê = 1, .5, 0, .25
    scaled = np.array([2 + 1.0 * 2, 2 + 0.5 * -2, 2 + 0.0 * 0, 2 + 0.25 * 0])  # 4, 1, 2, 2
    logits = scaled @ w                                               # [8, -1]
    expect = -(logits[1] - np.log(np.exp(logits).sum()))
    got = fidelity_continuous(model, x, sal, np.array([1]))
    np.testing.assert_allclose(got, [expect], rtol=1e-5)
    # an all-zero map keeps only the mean: logits of a constant 2 image = [6, 0]
    zero = fidelity_continuous(model, x, np.zeros_like(sal), np.array([0]))
    np.testing.assert_allclose(zero, [np.log1p(np.exp(-6.0))], rtol=1e-5)
