"""dance_tf.validate: every user number is typed, finite and in range, or refused by name."""

import math

import numpy as np
import pytest

from dance_tf import validate as v


def test_message_names_argument_and_value():
    with pytest.raises(ValueError) as e:
        v.number("max_steps", float("nan"), low=1, integer=True)
    assert str(e.value) == "max_steps: expected a finite integer ≥ 1, got nan"


@pytest.mark.parametrize("bad", ["5", b"5", True, np.bool_(False), [1], (1,), None,
                                 np.array([1.0, 2.0]), {"a": 1}])
def test_wrong_types_are_type_errors(bad):
    with pytest.raises(TypeError, match=r"^budget: "):
        v.number("budget", bad, low=0)


@pytest.mark.parametrize("bad", [float("nan"), np.float32("nan"), float("inf"), -math.inf,
                                 np.float64("inf")])
def test_non_finite_refused_by_default(bad):
    with pytest.raises(ValueError, match=r"^memory_budget_mb: expected a finite number"):
        v.number("memory_budget_mb", bad, low=0, low_open=True)


def test_inf_only_when_allowed_and_still_bounded():
    assert v.number("x", math.inf, allow_inf=True) == math.inf
    with pytest.raises(ValueError):
        v.number("x", -math.inf, low=0, allow_inf=True)
    with pytest.raises(ValueError):     # NaN is never allowed, even with allow_inf
        v.number("x", math.nan, allow_inf=True)


def test_bounds_inclusive_and_open():
    assert v.number("k", 0.0, low=0) == 0.0
    with pytest.raises(ValueError, match=r"k: expected a finite number > 0, got 0.0"):
        v.number("k", 0.0, low=0, low_open=True)
    assert v.number("k", 1.0, low=0, high=1) == 1.0
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        v.number("k", 1.0, low=0, high=1, high_open=True)
    with pytest.raises(ValueError, match=r"≤ 3"):
        v.number("k", 3.5, high=3)


def test_integers():
    out = v.number("count", np.int64(7), low=1, integer=True)
    assert out == 7 and type(out) is int
    out = v.number("count", 1e3, low=1, integer=True)     # an integral float is accepted
    assert out == 1000 and type(out) is int
    with pytest.raises(ValueError, match=r"^count: expected a finite integer ≥ 1, got 2.5"):
        v.number("count", 2.5, low=1, integer=True)
    with pytest.raises(ValueError, match=r"got 0$"):
        v.number("count", 0, low=1, integer=True)
    assert v.number("count", np.array(3), integer=True) == 3    # 0-d array


def test_none_only_when_allowed():
    assert v.number("eps", None, allow_none=True) is None
    with pytest.raises(TypeError, match=r"^eps: expected a finite number or None|^eps: "):
        v.number("eps", None)


def test_number_from_text():
    assert v.number_from_text("max_steps", " 12 ", integer=True, low=1) == 12
    assert v.number_from_text("eps", "1e-3", low=0) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match=r"^max_steps: .*got 'abc'"):
        v.number_from_text("max_steps", "abc", integer=True, low=1)
    with pytest.raises(ValueError, match=r"^max_steps: .*got nan"):
        v.number_from_text("max_steps", "nan", integer=True, low=1)
    with pytest.raises(ValueError, match=r"^budget: .*got inf"):
        v.number_from_text("budget", "inf", low=0)
    assert v.number_from_text("eps", "None", allow_none=True) is None
    with pytest.raises(ValueError, match=r"^eps: "):
        v.number_from_text("eps", "None")


def test_seed():
    assert v.seed("seed", 0) == 0 and v.seed("seed", 2**32 - 1) == 2**32 - 1
    for bad in (-1, 2**32, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"^seed: "):
            v.seed("seed", bad)
    with pytest.raises(TypeError, match=r"^seed: .*None"):
        v.seed("seed", None)
    assert v.seed("seed", None, allow_none=True) is None


def test_fractions():
    assert v.fractions("k", [0.2, 0.5]) == (0.2, 0.5)
    for bad in ([], [0.0], [1.5], [0.2, 0.2], [float("nan")]):
        with pytest.raises(ValueError, match=r"^k"):
            v.fractions("k", bad)
    with pytest.raises(TypeError, match=r"^k"):
        v.fractions("k", "0.2")


def test_value_range_broadcasts_and_casts():
    lo, hi = v.value_range(0, np.array([1.0, 2.0, 3.0]), (2, 3))
    assert lo.dtype == np.float32 and hi.dtype == np.float32
    np.testing.assert_array_equal(lo, np.zeros((2, 3)))
    np.testing.assert_array_equal(hi, [[1, 2, 3], [1, 2, 3]])


@pytest.mark.parametrize("lo,hi", [(np.nan, 1.0), (0.0, np.inf), (-np.inf, 1.0),
                                   (0.0, np.array([1.0, np.nan])), (0.0, 1e39)])
def test_value_range_refuses_non_finite(lo, hi):
    # 1e39 overflows float32 to inf and must be refused too.
    with pytest.raises(ValueError, match=r"^value_range \(x_m(in|ax)\): expected finite"):
        v.value_range(lo, hi, (2,))


def test_value_range_order_shape_and_type():
    with pytest.raises(ValueError, match=r"^value_range: x_min exceeds x_max .*index \(1,\)"):
        v.value_range(np.array([0.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match=r"^value_range: .*do not broadcast"):
        v.value_range(np.zeros(3), 1.0, (2, 4))
    with pytest.raises(TypeError, match=r"^value_range"):
        v.value_range("0", 1.0)
    with pytest.raises(TypeError, match=r"^value_range: expected a pair"):
        v.value_range_pair((0.0, 1.0, 2.0))
    lo, hi = v.value_range_pair((0.0, 255.0), (1, 2))
    assert float(hi.max()) == 255.0


def test_deviation_bound():
    b = v.deviation_bound(0.5, (2, 2))
    assert b.shape == (2, 2) and b.dtype == np.float32
    for bad in (np.nan, np.inf, -0.1, np.array([0.1, np.nan])):
        with pytest.raises(ValueError, match=r"^deviation_bound: "):
            v.deviation_bound(bad)


def test_finite_array_names_first_bad_index():
    x = np.zeros((2, 3))
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^x: .*1 non-finite .*\(1, 2\)"):
        v.finite_array("x", x)
    with pytest.raises(TypeError, match=r"^x: "):
        v.finite_array("x", np.array(["a"]))


def test_value_range_pair_returns_copies():
    """The caller's arrays changed in place afterwards change nothing that was checked."""
    lo, hi = np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)
    got_lo, got_hi = v.value_range_pair((lo, hi))
    lo[:] = 5.0
    hi[:] = 7.0
    np.testing.assert_array_equal(got_lo, 0.0)
    np.testing.assert_array_equal(got_hi, 1.0)


def test_constant_of_the_wrong_shape_names_both_shapes():
    """``constant=`` that does not fit x: an InputError naming it and both shapes, for one
    input and for a batch (before: numpy's "operands could not be broadcast")."""
    import dance_tf
    from tests.saliency.tiny import FEW_DECOYS, tiny_cnn, tiny_inputs

    ex = dance_tf.Explainer(tiny_cnn(), perturbation="constant", constant=np.zeros((3, 3)),
                            **FEW_DECOYS)
    xs = tiny_inputs(2)
    for x in (xs[0], xs):
        with pytest.raises(v.InputError, match=r"constant: shape \(3, 3\).*\(8, 8, 1\)"):
            ex(x)


def test_an_unbounded_count_beyond_int32_is_refused_in_a_short_line():
    # refine_steps=1e300 reached the graph as a Python int and overflowed there; patch_size
    # 1e300 was refused later with all 301 digits in the message
    assert v.number("steps", 2**31 - 1, integer=True, low=1) == 2**31 - 1
    for big in (2**31, 1e300, 10**40):
        with pytest.raises(ValueError, match=r"^steps: .*up to 2147483647") as err:
            v.number("steps", big, integer=True, low=1)
        assert len(str(err.value)) < 120
    import dance_tf
    from tests.conftest import small_cnn

    for name in ("refine_steps", "patch_size"):
        with pytest.raises(ValueError, match=rf"^{name}: "):
            dance_tf.Explainer(small_cnn(), value_range=(0.0, 1.0), **{name: 1e300})
