"""Grad-CAM against a hand computation on a tiny conv net (plain and nested), and its
bilinear resize of a coarse layer's map."""

import keras
import numpy as np
import pytest

from dance_tf.saliency.gradcam import gradcam


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
