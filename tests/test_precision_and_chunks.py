"""Reduced-precision decoy loops keep float32 certificates; decoy chunks waste no work."""

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf.layers import layer_model
from dance_tf.precision import loop_model
from dance_tf.sizing import balanced_chunks


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


@pytest.mark.parametrize("n,fit,base_max", [(16, 16, 5), (18, 18, 100), (986, 64, 64),
                                            (986, 64, 10), (17, 8, 8), (5, 1, 1),
                                            (72, 1000, 7), (128, 40, 40), (3, 2, 1)])
def test_balanced_chunks_fit_memory_and_pad_little(n, fit, base_max):
    chunk, base = balanced_chunks(n, fit, base_max)
    chunks = -(-n // chunk)
    assert chunk <= fit and base <= base_max and chunk % base == 0
    # padding: fewer than one slot per chunk plus one per base-method batch
    assert chunks * chunk - n < chunks * (chunk // base + 1)
    assert chunks == -(-n // fit) or chunk * (chunks - 1) < n


def test_sixteen_decoys_in_one_chunk_not_fifteen_plus_a_padded_one():
    # the vgg_16 R1 case: 16 decoys, batch 16, the base method fits 5 at a time; it used
    # to run two chunks of 15 (the second with 14 padded decoys)
    assert balanced_chunks(16, 16, 5) == (16, 4)


def test_memory_budget_that_cannot_hold_one_decoy_says_what_to_lower():
    big = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Conv2D(64, 3, name="c"),
                            keras.layers.Flatten(), keras.layers.Dense(2)])
    ex = dance_tf.Explainer(big, layer="c", value_range=(0.0, 1.0), memory_budget_mb=0.5)
    with pytest.raises(ValueError, match="memory_budget_mb.*raise memory_budget_mb"):
        ex.explain(np.zeros((64, 64, 3), np.float32))


def test_expanding_base_methods_get_a_batch_size_from_the_memory_budget(cnn, image):
    seen = []

    def grad_like(model, inputs, targets, batch_size=64):
        seen.append(batch_size)
        return dance_tf.saliency.gradient(model, inputs, targets)

    ex = dance_tf.Explainer(cnn, method=grad_like, value_range=(0.0, 1.0),
                            patches_per_mask=50, memory_budget_mb=1.0)
    ex.explain(image)
    # 1 MB over (4 input-sized buffers + 1.5 × the activations) per evaluation, by hand
    from dance_tf.sizing import activation_elems as _activation_elems

    per_eval = 4.0 * (4 * 144 + 1.5 * _activation_elems(cnn, (12, 12, 1)))
    assert seen and set(seen) == {int(2**20 // per_eval)}
    seen.clear()
    dance_tf.Explainer(cnn, method=grad_like, value_range=(0.0, 1.0), patches_per_mask=50,
                       memory_budget_mb=1.0, batch_size=3).explain(image)
    assert set(seen) == {3}  # the caller's choice wins
