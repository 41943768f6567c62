"""``saliency.register(name, fn)`` (issue 23): a user's method by name, for ``get`` and
``Explainer(method=name)``; built-in names are never replaced, others only with
``replace=True`` (``register`` did not exist before: these failed on the unmodified code)."""

import numpy as np
import pytest

import dance_tf
from dance_tf import saliency
from dance_tf.errors import InputError
from dance_tf.saliency import registry
from tests.saliency.tiny import FEW_DECOYS, tiny_cnn, tiny_inputs


def doubled_gradient(model, x, targets):
    return 2.0 * saliency.gradient(model, x, targets)


def other(model, x, targets):
    return saliency.gradient(model, x, targets)


@pytest.fixture(autouse=True)
def clean_registry():
    yield
    for name in ("doubled", "doubled_numpy"):
        registry.REGISTERED.pop(name, None)


def test_registered_method_is_found_by_get_and_the_explainer():
    model, xs = tiny_cnn(), tiny_inputs(1)
    saliency.register("doubled", doubled_gradient, graph_safe=True)
    method = saliency.get("Doubled")
    assert method.name == "doubled" and method.graph_safe is True
    np.testing.assert_allclose(method(model, xs, [1]),
                               2.0 * saliency.gradient(model, xs, [1]), rtol=1e-6)
    ex = dance_tf.Explainer(model, method="doubled", **FEW_DECOYS)
    np.testing.assert_allclose(ex.base_map(xs[0], 1),
                               2.0 * saliency.gradient(model, xs, [1])[0], rtol=1e-6)
    assert ex(xs[0], 1).shape == (8, 8, 1)


def test_graph_safe_flag_is_kept():
    saliency.register("doubled_numpy", doubled_gradient, graph_safe=False)
    assert saliency.get("doubled_numpy").graph_safe is False


@pytest.mark.parametrize("name", ["gradient", "ig", "SmoothGrad"])
def test_built_in_names_are_never_replaced(name):
    for replace in (False, True):
        with pytest.raises(InputError, match="built-in"):
            saliency.register(name, other, replace=replace)
    assert registry.resolve_method(name)[1] is not other


def test_an_existing_name_needs_replace():
    saliency.register("doubled", doubled_gradient)
    saliency.register("doubled", doubled_gradient)   # the same function again: a no-op
    with pytest.raises(InputError, match="replace=True"):
        saliency.register("doubled", other)
    assert saliency.get("doubled").fn.__wrapped__ is doubled_gradient
    saliency.register("doubled", other, replace=True)
    assert saliency.get("doubled").fn.__wrapped__ is other


@pytest.mark.parametrize("args, kwargs, name", [
    (("", other), {}, "name"), ((3, other), {}, "name"), (("x", 3), {}, "fn"),
    (("x", lambda model, x: x), {}, "fn"), (("x", other), {"graph_safe": 1}, "graph_safe"),
])
def test_bad_registrations_name_the_argument(args, kwargs, name):
    with pytest.raises(TypeError, match=name):
        saliency.register(*args, **kwargs)


def test_the_function_gradient_is_reachable_beside_its_module():
    model, xs = tiny_cnn(), tiny_inputs(1)
    assert callable(dance_tf.saliency.gradient)
    assert dance_tf.saliency.gradient(model, xs, [0]).shape == xs.shape


def test_study_registers_through_register():
    from dance_tf.study import open_choices

    open_choices.register_methods()
    open_choices.register_methods()   # idempotent
    assert registry.REGISTERED["gradient_probability"][0] is open_choices.gradient_probability
    assert "gradient_probability" not in registry.METHODS
