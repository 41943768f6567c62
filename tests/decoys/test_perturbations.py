"""Perturbation strategies (``dance_tf.decoys.perturbations``) on items of several inputs,
against hand-worked formulas and against the single-input decoy solver."""

import numpy as np
import pytest
import tensorflow as tf

from dance_tf import aggregate
from dance_tf.decoys import perturbations
from dance_tf.decoys.settings import DecoySettings
from dance_tf.decoys.solve import optimise
from dance_tf.layers import layer_model
from tests.conftest import small_cnn


def items_of(f_l, xs, masks, eps):
    """Items: every mask of every input of xs, input-major."""
    k = len(masks)
    x = np.repeat(xs, k, axis=0)
    lo, hi = np.zeros_like(x), np.ones_like(x)
    ref = f_l(tf.constant(xs), training=False)
    return perturbations.Items(
        tf.constant(x), tf.constant(lo), tf.constant(hi), tf.constant(x * 0 + 0.25),
        tf.constant(np.tile(masks, (len(xs), 1, 1, 1))),
        tf.constant(np.tile(np.r_[1.0, -1.0][np.arange(k) % 2], len(xs)), tf.float32),
        tf.constant(np.stack([np.zeros(k * len(xs)), np.arange(k * len(xs))], 1), tf.int32),
        tf.constant(np.repeat(eps, k), tf.float32), tf.repeat(ref, k, axis=0), None)


@pytest.fixture(scope="module")
def setting():
    model = small_cnn()
    f_l, _ = layer_model(model, "pool1", (12, 12, 1))
    rng = np.random.default_rng(0)
    xs = rng.random((2, 12, 12, 1), dtype=np.float32) * 0.8 + 0.1
    masks = np.zeros((4, 12, 12, 1), np.float32)
    masks[0, :4, :4] = masks[1, :4, :4] = masks[2, 6:, 6:] = masks[3, 6:, 6:] = 1
    return f_l, xs, masks


def test_constant_and_noise_by_hand(setting):
    f_l, xs, masks = setting
    items = items_of(f_l, xs, masks, np.array([0.1, 0.2]))
    out = perturbations.Constant(f_l)(items)
    want = np.where(np.tile(masks, (2, 1, 1, 1)) > 0, 0.25, np.repeat(xs, 4, axis=0))
    np.testing.assert_array_equal(out["inputs"].numpy(), want)
    dev = np.abs(f_l(want).numpy() - np.repeat(f_l(xs).numpy(), 4, axis=0))
    np.testing.assert_allclose(out["max_deviation"], dev.reshape(8, -1).max(1), rtol=1e-6)
    noisy = perturbations.Noise(f_l, 0.1)(items)["inputs"].numpy()
    outside = np.tile(masks, (2, 1, 1, 1)) == 0
    np.testing.assert_array_equal(noisy[outside], np.repeat(xs, 4, axis=0)[outside])
    assert np.all((noisy >= 0) & (noisy <= 1)) and not np.allclose(noisy, want)


@pytest.mark.parametrize("solver", ["line_search", "adam"])
def test_decoys_of_two_inputs_equal_each_solved_alone(setting, solver):
    f_l, xs, masks = setting
    settings = DecoySettings(solver=solver, max_steps=5)
    eps = np.array([0.05, 0.2], np.float32)  # a different ε per input
    both = perturbations.Decoys(f_l, settings)(items_of(f_l, xs, masks, eps))
    signs = tf.constant([1.0, -1.0, 1.0, -1.0])
    for i in range(2):
        seeds = tf.constant(np.stack([np.zeros(4), 4 * i + np.arange(4)], 1), tf.int32)
        alone = optimise(f_l, tf.constant(xs[i]), tf.constant(masks), signs,
                         tf.zeros((12, 12, 1)), tf.ones((12, 12, 1)), tf.constant(eps[i]),
                         seeds, settings)
        # float32 rounding differs with the batch shape (oneDNN kernels; with
        # TF_ENABLE_ONEDNN_OPTS=0 they agree to 1e-5) and the line search's steps follow
        # it: 0.1 %, where a wrong ε or input moves decoys by 0.1
        for key in ("decoys", "max_deviation", "objective", "certified"):
            np.testing.assert_allclose(both[key].numpy()[4 * i:4 * i + 4],
                                       alone[key].numpy(), rtol=1e-3, atol=1e-5,
                                       err_msg=f"{key}, input {i}")
    assert both["certified"].numpy().all()
    assert np.all(both["max_deviation"].numpy() <= np.repeat(eps, 4) + 1e-7)


def test_strategies_by_name():
    assert [aggregate.get(n).uses_cover for n in aggregate.AGGREGATIONS] == [False, False,
                                                                             True]
    stats = (tf.constant([3.0, 1.0]), tf.constant([1.0, 2.0]), tf.constant([6.0, 3.0]),
             tf.constant(3.0))
    np.testing.assert_allclose(aggregate.get("range").finish(stats), [2.0, -1.0])
    np.testing.assert_allclose(aggregate.get("range_covering").finish(stats), [2.0, 0.0])
    np.testing.assert_allclose(aggregate.get("mean").finish(stats), [2.0, 1.0])
    with pytest.raises(ValueError, match="aggregation"):
        aggregate.get("median")
    with pytest.raises(ValueError, match="perturbation"):
        perturbations.build("blur", None, DecoySettings())
