"""tf.data inputs to the explainer (issue 24): infinite, endless, (x, y) pairs, ragged.

Before: ``explainer(ds.repeat())`` never returned (memory grew without bound), a dataset of
(x, y) pairs and a ragged one failed with numpy's "inhomogeneous shape" message. Each test
runs under an alarm, so a hang fails instead of blocking the suite.
"""


import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import datasets, inputs
from dance_tf.errors import InputError
from tests.conftest import small_cnn, time_limit


@pytest.fixture(scope="module")
def explainer():
    return dance_tf.Explainer(small_cnn(), value_range=(0.0, 1.0), method="gradient",
                              patch_size=6, stride=6)


@pytest.fixture(scope="module")
def xs():
    return np.random.default_rng(0).random((3, 12, 12, 1)).astype(np.float32)


def _keep_all(x):   # a filter: the dataset's length becomes UNKNOWN
    return tf.constant(True)


def test_infinite_dataset_is_refused_before_reading(explainer, xs):
    ds = tf.data.Dataset.from_tensor_slices(xs).repeat()
    with time_limit(30), pytest.raises(InputError, match=r"^x: .*infinite.*take"):
        explainer(ds)


def test_endless_dataset_of_unknown_length_stops_at_the_limit(monkeypatch, xs):
    ds = tf.data.Dataset.from_tensor_slices(xs).repeat().filter(_keep_all)
    assert int(ds.cardinality()) == int(tf.data.UNKNOWN_CARDINALITY)
    monkeypatch.setattr(datasets, "MAX_ELEMENTS", 50)
    with time_limit(30), pytest.raises(InputError, match=r"x: .*more than 50 elements"):
        inputs.gather(ds, 3)


def test_unknown_length_under_the_limit_is_read(xs):
    ds = tf.data.Dataset.from_tensor_slices(xs).filter(_keep_all)
    np.testing.assert_array_equal(inputs.gather(ds, 3), xs)


def test_memory_limit_names_itself(monkeypatch, xs):
    monkeypatch.setattr(datasets, "MAX_BYTES", 2 * xs[0].nbytes)
    ds = tf.data.Dataset.from_tensor_slices(xs)
    with pytest.raises(InputError, match=r"x: .*MAX_BYTES.*after 3 elements"):
        inputs.gather(ds, 3)


def test_pairs_give_their_x(explainer, xs):
    """The maps of a dataset of (x, y) pairs are those of x itself (batched or not)."""
    want = explainer(xs, [1, 2, 3])
    pairs = tf.data.Dataset.from_tensor_slices((xs, np.array([1, 2, 3])))
    x = inputs.gather(pairs, 3)
    np.testing.assert_array_equal(x, xs)
    got, targets, batched = inputs.gather_targets(pairs.batch(2), None, (12, 12, 1))
    np.testing.assert_array_equal(got, xs)
    assert batched and list(targets) == [1, 2, 3]
    np.testing.assert_allclose(explainer(got, targets), want, rtol=1e-5, atol=1e-7)


def test_pairs_and_targets_together_are_refused(xs):
    pairs = tf.data.Dataset.from_tensor_slices((xs, np.array([1, 2, 3])))
    with pytest.raises(InputError, match="targets: the dataset holds"):
        inputs.gather_targets(pairs, [0, 0, 0], (12, 12, 1))


def test_explainer_on_pairs_uses_x_and_refuses_targets_twice(explainer, xs):
    pairs = tf.data.Dataset.from_tensor_slices((xs, np.array([1, 2, 3])))
    np.testing.assert_allclose(explainer(pairs), explainer(xs, [1, 2, 3]), rtol=1e-5,
                               atol=1e-7)
    with pytest.raises(InputError, match="targets"):
        explainer(pairs, [1, 2, 3])


def test_one_tuples_are_inputs(xs):
    ds = tf.data.Dataset.from_tensor_slices((xs,))
    np.testing.assert_array_equal(inputs.gather(ds, 3), xs)


def _ragged():
    sizes = [12, 10, 12]
    return tf.data.Dataset.from_generator(
        lambda: (np.zeros((s, 12, 1), np.float32) for s in sizes),
        output_signature=tf.TensorSpec((None, 12, 1), tf.float32))


def test_ragged_dataset_names_x_and_the_shapes(explainer):
    with pytest.raises(InputError, match=r"^x: the dataset is ragged.*\(10, 12, 1\) and "
                                         r"\(12, 12, 1\)"):
        explainer(_ragged())


def test_ragged_batches_name_x(xs):
    ds = _ragged().batch(1)
    with pytest.raises(InputError, match=r"x: the dataset is ragged: batches"):
        inputs.gather(ds, 3)


def test_ragged_tensor_dataset_names_x():
    ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[[1.0], [2.0]], [[3.0]]]))
    with pytest.raises(InputError, match=r"^x: "):
        inputs.gather(ds, 2)


def test_ragged_nested_lists_name_x():
    with pytest.raises(InputError, match=r"^x: the inputs are ragged"):
        inputs.gather([[1.0, 2.0], [3.0]], 1)


def test_evaluate_inputs_refuse_an_infinite_dataset(xs):
    from dance_tf.evaluation.card_inputs import _dataset_arrays

    ds = tf.data.Dataset.from_tensor_slices((xs, np.array([1, 2, 3]))).repeat()
    with time_limit(30), pytest.raises(InputError, match=r"^inputs: .*infinite"):
        _dataset_arrays(ds, 3)


def test_a_dataset_of_pairs_explains_its_labels():
    """Explainer(ds of (x, y)): y are the targets — the same maps as the inputs with those
    targets given explicitly; targets given as well are refused."""
    model = small_cnn()
    xs = np.random.default_rng(0).random((3, 12, 12, 1)).astype(np.float32)
    ys = np.array([2, 0, 3])
    ex = dance_tf.Explainer(model, value_range=(0.0, 1.0), patches_per_mask=50)
    pairs = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(2)
    np.testing.assert_allclose(ex(pairs), ex(xs, ys), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ex.base_map(pairs), ex.base_map(xs, ys), rtol=1e-6)
    with pytest.raises(dance_tf.InputError, match="targets"):
        ex(pairs, [0, 0, 0])
