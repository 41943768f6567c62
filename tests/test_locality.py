"""Local and global layers (issue 22): crops only where every layer up to ℓ is local, and
the map with crops equals the map without where crops are planned."""

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf import layers as L
from tests.test_model_contract import RNG


# ------------------------------------------------------------------ crops
def _window_attention_model(size=32):
    """Patch conv (stride 4), then attention inside 2×2-patch windows (a Swin-like block)."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((size, size, 3))
    h = keras.layers.Conv2D(8, 4, strides=4, name="patch")(inp)          # (8, 8, 8)
    g = size // 4
    w = keras.layers.Reshape((g // 2, 2, g // 2, 2, 8))(h)
    w = keras.layers.Permute((1, 3, 2, 4, 5))(w)
    w = keras.layers.Reshape(((g // 2) ** 2 * 4 // 4, 4, 8))(w)
    w = keras.layers.Reshape((-1, 8))(w)
    a = keras.layers.MultiHeadAttention(2, 4, name="attn")(w, w)
    a = keras.layers.Reshape((g, g, 8))(a)
    h = keras.layers.Add()([h, a])
    h = keras.layers.Conv2D(8, 3, padding="same", name="after")(h)
    out = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inp, out)


def test_window_attention_before_l_means_no_crops_and_a_warning():
    model = _window_attention_model()
    ex = dance_tf.Explainer(model, layer="after", value_range=(0.0, 1.0), packing="tiles",
                            patches_per_mask=64, use_crops=True)
    with pytest.warns(dance_tf.LayerWarning, match="comes after .reshape"):
        plan = ex.plan((32, 32, 3), np.zeros((32, 32, 3), np.float32),
                       np.ones((32, 32, 3), np.float32))
    assert plan.crop is None
    # the default ℓ stops before the attention
    assert L.resolve_layer(model, None, (32, 32, 3)).name == "patch"


def test_crops_equal_full_inputs_where_planned():
    from tests.conftest import small_cnn

    model = small_cnn(size=48, channels=1)
    x = RNG.random((48, 48, 1), dtype=np.float32)
    opts = dict(value_range=(0.0, 1.0), packing="tiles", patches_per_mask=36)
    with_crops = dance_tf.Explainer(model, use_crops=True, **opts)
    lo, hi = np.zeros_like(x), np.ones_like(x)
    assert with_crops.plan(x.shape, lo, hi).crop is not None
    a = with_crops(x)
    b = dance_tf.Explainer(model, use_crops=False, **opts)(x)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * np.abs(b).max())




def test_layer_kinds_by_hand():
    from dance_tf import locality

    inp = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 3)
    per_pos = keras.layers.Dense(4)
    h = per_pos(conv(inp))
    flat = keras.layers.Dense(2)
    flat(keras.layers.Flatten()(h))
    cases = {conv: locality.LOCAL, per_pos: locality.LOCAL, flat: locality.GLOBAL,
             keras.layers.GlobalAveragePooling2D(): locality.GLOBAL,
             keras.layers.MultiHeadAttention(1, 2): locality.GLOBAL,
             keras.layers.LayerNormalization(axis=-1): locality.LOCAL,
             keras.layers.LayerNormalization(axis=[1, 2, 3]): locality.GLOBAL,
             keras.layers.Reshape((4,)): locality.GLOBAL,
             keras.layers.Lambda(lambda t: t): locality.UNKNOWN,
             keras.layers.Embedding(3, 2): locality.TOKENS,
             keras.layers.MaxPooling2D(): locality.LOCAL,
             keras.layers.BatchNormalization(): locality.LOCAL}
    for layer, expected in cases.items():
        assert locality.kind(layer) == expected, layer
