"""Range / mean aggregation: a hand-worked example, chunking, and the explainer's range."""

import numpy as np
import tensorflow as tf

import dance_tf
from dance_tf import aggregate
from tests.conftest import small_cnn


def test_hand_worked_running_range_and_mean():
    maps = np.array([[1.0, 5.0], [3.0, -2.0], [0.0, 4.0], [9.0, 9.0]], np.float32)
    valid = np.array([True, True, True, False])  # the last row is padding
    stats = aggregate.init_stats([2])
    stats = aggregate.update_stats(stats, tf.constant(maps[:2]), tf.constant(valid[:2]))
    stats = aggregate.update_stats(stats, tf.constant(maps[2:]), tf.constant(valid[2:]))
    np.testing.assert_allclose(aggregate.finish_stats(stats, "range"), [3.0, 7.0])
    np.testing.assert_allclose(aggregate.finish_stats(stats, "mean"), [4 / 3, 7 / 3])


def identity_map(model, inputs, targets):
    """A base method whose map is the input itself: Z must equal max − min of the decoys."""
    return tf.identity(inputs)


def _details(model, seed: int, method, **options):
    """Explanations of one random 12×12 input with the whole decoy set in one chunk and
    in chunks of 4 (the aggregation must not depend on the chunking)."""
    x = np.random.default_rng(seed).random((12, 12, 1)).astype(np.float32)
    for batch in (None, 4):
        yield x, dance_tf.explain(model, x, method=method, value_range=(0, 1),
                                  patches_per_mask=20, decoy_batch_size=batch,
                                  return_details=True, **options)


def test_explainer_range_equals_range_of_decoy_maps():
    model = small_cnn()
    for x, r in _details(model, 9, identity_map):
        np.testing.assert_allclose(r.saliency, r.decoys.max(0) - r.decoys.min(0), atol=1e-6)
        rm = dance_tf.explain(model, x, method=identity_map, value_range=(0, 1),
                              patches_per_mask=20, aggregation="mean", return_details=True)
        np.testing.assert_allclose(rm.saliency, rm.decoys.mean(0), atol=1e-6)


def test_hand_worked_covering_range():
    maps = np.array([[1.0, 5.0], [3.0, -2.0], [0.0, 4.0]], np.float32)
    cover = np.array([[1, 0], [1, 1], [0, 1]], np.float32)   # feature 0: items 0, 1
    stats = aggregate.update_stats(aggregate.init_stats([2]), tf.constant(maps),
                                   tf.constant([True] * 3), tf.constant(cover))
    np.testing.assert_allclose(aggregate.finish_stats(stats, "range_covering"), [2.0, 6.0])
    none = aggregate.update_stats(aggregate.init_stats([2]), tf.constant(maps),
                                  tf.constant([True] * 3), tf.zeros([3, 2]))
    np.testing.assert_allclose(aggregate.finish_stats(none, "range_covering"), [0.0, 0.0])


def shifted_map(model, inputs, targets):
    """A non-local base method: each feature's map moves with the whole input's mean."""
    return inputs + 10.0 * tf.reduce_mean(inputs, axis=[1, 2, 3], keepdims=True)


def test_explainer_covering_range_equals_brute_force_over_covering_decoys():
    model = small_cnn()
    for _, r in _details(model, 10, shifted_map, aggregation="range_covering"):
        maps = r.decoys + 10.0 * r.decoys.mean(axis=(1, 2, 3), keepdims=True)
        assert len(r.decoys) == 2 * len(r.masks)
        cover = np.concatenate([r.masks, r.masks]) > 0   # decoy k has mask k mod n
        assert cover.any(axis=0).all()
        hi = np.where(cover, maps, -np.inf).max(0)
        lo = np.where(cover, maps, np.inf).min(0)
        np.testing.assert_allclose(r.saliency, hi - lo, atol=1e-5)
        # not the plain range: decoys of other masks move every feature's map here
        assert np.abs(r.saliency - (maps.max(0) - maps.min(0))).max() > 1e-3


def numpy_method(model, inputs, targets):
    """A user base method written with numpy (not graph-safe): |x − 0.5| per feature."""
    return np.abs(np.asarray(inputs) - 0.5) * float(np.asarray(targets).max() + 1)


def test_numpy_user_method_runs_eagerly_with_a_warning():
    model = small_cnn()
    x = np.random.default_rng(11).random((12, 12, 1)).astype(np.float32)
    with __import__("pytest").warns(UserWarning, match="eagerly"):
        r = dance_tf.explain(model, x, method=numpy_method, value_range=(0, 1), target=1,
                             patches_per_mask=20, return_details=True)
    maps = np.abs(r.decoys - 0.5) * 2
    np.testing.assert_allclose(r.saliency, maps.max(0) - maps.min(0), atol=1e-6)


def test_memory_budget_splits_decoy_and_base_batches_without_changing_the_map():
    model = small_cnn()
    x = np.random.default_rng(12).random((12, 12, 1)).astype(np.float32)
    opts = {"value_range": (0, 1), "patches_per_mask": 10,
            "method": "integrated_gradients", "steps": 8}
    full = dance_tf.Explainer(model, **opts)
    small = dance_tf.Explainer(model, memory_budget_mb=0.05, **opts)
    np.testing.assert_allclose(small.explain(x), full.explain(x), rtol=1e-5, atol=1e-6)
    assert small.plan(x.shape).chunk < full.plan(x.shape).chunk == 20
