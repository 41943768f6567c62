"""The Explainer's options checked once, where they enter, into a frozen object
(dance_tf.explainer_options): each option exactly once, by the table's rule; an option of
the solver not in use is refused naming both solvers; an unknown option is a TypeError."""

import pytest

import dance_tf
from dance_tf import explainer_options, options
from dance_tf.errors import InputError
from tests.conftest import small_cnn

SOLVER_OPTIONS = [o for o in options.OPTIONS if o.solver]


@pytest.mark.parametrize("opt", SOLVER_OPTIONS, ids=lambda o: o.name)
def test_the_api_refuses_an_option_of_the_solver_not_in_use(opt):
    other = next(s for s in options.SOLVERS if s != opt.solver)
    value = not opt.default if opt.kind == "flag" else opt.default * 0.5 + 1
    if opt.rule and opt.rule.get("integer"):
        value = int(opt.default + 1)
    if opt.name == "backoff":
        value = 0.25
    with pytest.raises(InputError, match=rf"^{opt.name}: .*{opt.solver} solver.*"
                                         rf"solver={other!r}"):
        explainer_options.checked({"solver": other, opt.name: value})
    assert explainer_options.checked({"solver": opt.solver, opt.name: value})[opt.name] == value
    # the default, spelled out, is accepted under the other solver
    explainer_options.checked({"solver": other, opt.name: opt.default})


def test_the_explainer_refuses_an_adam_option_under_the_line_search():
    with pytest.raises(InputError, match="max_steps: an option of the adam solver"):
        dance_tf.Explainer(small_cnn(), max_steps=5)
    ex = dance_tf.Explainer(small_cnn(), solver="adam", max_steps=5)
    assert ex.settings.max_steps == 5 and ex.settings.solver == "adam"


def test_options_are_checked_once_and_frozen(monkeypatch):
    seen = []
    real = options.check
    monkeypatch.setattr(options, "check", lambda name, value: seen.append(name) or
                        real(name, value))
    opts = explainer_options.checked({"stride": 2.0, "solver": "adam", "max_steps": 3.0})
    assert sorted(seen) == sorted(options.BY_NAME)           # each option exactly once
    assert opts["stride"] == 2 and type(opts.stride) is int
    assert opts.settings.max_steps == 3 and type(opts.settings.max_steps) is int
    with pytest.raises(AttributeError):
        opts.stride = 3
    with pytest.raises(TypeError):
        opts["stride"] = 3       # noqa
    assert opts["epsilon"] is None                           # None stays None (no −1.0)


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="max_step"):
        explainer_options.checked({"max_step": 3})


def test_lambda0_above_the_old_cap_gets_its_own_cap():
    s = explainer_options.checked({"solver": "adam", "lambda0": 1e12}).settings
    assert s.lambda_max == 1e12 * 2 ** 20
