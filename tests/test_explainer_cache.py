"""``dance_tf.explain``'s cache is keyed by value, never by ``id()`` alone (issue 24).

Before, an unhashable option value (a ``BaseMethod``: its options are a dict) was keyed by
``id()``, which Python gives to a new object once the old one is freed: ``explain`` could
return the map of a different base method. Both end-to-end tests below failed on the
unmodified code."""

import numpy as np
import pytest

import dance_tf
from dance_tf import explainer, saliency
from dance_tf.saliency.base import BaseMethod
from tests.saliency.tiny import FEW_DECOYS, tiny_cnn, tiny_inputs


@pytest.fixture(autouse=True)
def empty_cache():
    explainer.EXPLAINERS.clear()
    yield
    explainer.EXPLAINERS.clear()


def _smoothgrad(samples):
    return BaseMethod("smoothgrad", saliency.smoothgrad, {"samples": samples, "noise": 0.3})


def test_a_reused_id_never_returns_another_methods_map(monkeypatch):
    """Python reuses the id of a freed object; here every id is the same (the worst case)."""
    monkeypatch.setattr(explainer, "id", lambda obj: 1, raising=False)
    model, x = tiny_cnn(), tiny_inputs(1)[0]
    first = dance_tf.explain(model, x, base=_smoothgrad(2), **FEW_DECOYS)
    second = dance_tf.explain(model, x, base=_smoothgrad(50), **FEW_DECOYS)
    uncached = dance_tf.Explainer(model, base=_smoothgrad(50), **FEW_DECOYS)(x)
    np.testing.assert_array_equal(second, uncached)
    assert not np.array_equal(second, first)


def test_equal_settings_share_one_explainer_and_different_ones_do_not():
    model = tiny_cnn()
    a = explainer.cached_explainer(model, base=_smoothgrad(2), **FEW_DECOYS)
    b = explainer.cached_explainer(model, base=_smoothgrad(2), **FEW_DECOYS)
    c = explainer.cached_explainer(model, base=_smoothgrad(3), **FEW_DECOYS)
    assert a is b and c is not a


def test_options_changed_in_place_make_a_new_key():
    model = tiny_cnn()
    baseline = np.zeros((1, 8, 8, 1), np.float32)
    a = explainer.cached_explainer(model, method="integrated_gradients",
                                       method_options={"baseline": baseline}, **FEW_DECOYS)
    baseline += 0.5
    b = explainer.cached_explainer(model, method="integrated_gradients",
                                       method_options={"baseline": baseline}, **FEW_DECOYS)
    assert a is not b
    assert float(a.method_options["baseline"].max()) == 0.0   # a copy was kept


def test_value_key_by_value_with_types():
    from dance_tf.explainer import value_key

    arr = np.arange(4, dtype=np.float32)
    assert value_key(arr) == value_key(arr.copy())
    assert value_key(arr) != value_key(arr.astype(np.float64))
    assert value_key(arr) != value_key(arr.reshape(2, 2))
    assert value_key({"a": 1, "b": [arr]}) == value_key({"b": [arr.copy()], "a": 1})
    assert len({value_key(1), value_key(1.0), value_key(True)}) == 3
    assert value_key((1, 2)) != value_key([1, 2])


def test_identity_keys_hold_their_object():
    from dance_tf.explainer import Same, value_key

    class Opaque:
        __hash__ = None   # unhashable, like a dict-holding object

    obj = Opaque()
    key = value_key(obj)
    assert key == value_key(obj) and key != value_key(Opaque())
    assert any(isinstance(part, Same) and part.obj is obj for part in key)
