"""Reduced-precision decoy loops (dance_tf.layers.loop_model) keep float32 certificates."""

import numpy as np
import pytest

import dance_tf
from dance_tf.layers import layer_model, loop_model


def test_bfloat16_copy_computes_in_bfloat16_close_to_float32(cnn):
    f_l, _ = layer_model(cnn, "pool1", (12, 12, 1))
    low = loop_model(f_l, "bfloat16")
    assert loop_model(f_l, "float32") is f_l
    v = np.random.default_rng(0).random((3, 12, 12, 1)).astype(np.float32)
    ref = f_l(v).numpy()
    out = low(v)
    assert out.dtype.name == "bfloat16"
    # bfloat16 keeps 8 significant bits: relative error ≲ 2⁻⁸ per operation
    err = np.abs(np.asarray(out, np.float32) - ref).max() / np.abs(ref).max()
    assert 0 < err < 0.02


def test_bfloat16_loop_decoys_pass_an_independent_float32_certificate(cnn, image):
    x = image
    res = dance_tf.explain(cnn, x, value_range=(0.0, 1.0), patches_per_mask=25,
                           precision="bfloat16", return_details=True)
    f_l, _ = layer_model(cnn, "pool1", x.shape)
    dev = np.abs(f_l(res.decoys).numpy() - f_l(x[None]).numpy()).reshape(len(res.decoys), -1)
    assert res.certified.mean() >= 0.9
    moved = np.abs(res.decoys - x[None]).reshape(len(res.decoys), -1).max(axis=1) > 0
    assert np.all(moved == res.certified)  # uncertified decoys are x itself
    assert np.all(dev.max(axis=1)[res.certified] <= res.epsilon * (1 + 1e-6))
    outside = (res.decoys - x[None]) * (1 - np.concatenate([res.masks, res.masks]))
    assert np.abs(outside).max() == 0.0


def test_bad_precision_is_a_clear_error(cnn):
    with pytest.raises(ValueError, match="precision"):
        dance_tf.Explainer(cnn, precision="float16")
