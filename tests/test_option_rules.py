"""dance_tf.option_rules: one table of numeric rules for DecoySettings, the Explainer and
the evaluation's --option (each refusal names the setting)."""

import inspect
import math

import pytest

import dance_tf
from dance_tf import option_rules
from dance_tf.decoys import DecoySettings
from dance_tf.evaluation import checks
from tests.conftest import small_cnn


def test_every_numeric_explainer_keyword_has_a_rule():
    params = inspect.signature(dance_tf.Explainer.__init__).parameters
    numeric = {name for name, p in params.items()
               if name != "seed" and any(t in str(p.annotation) for t in ("int", "float"))}
    assert len(numeric) >= 18          # the signature was read
    assert numeric == set(option_rules.EXPLAINER)


def test_every_solver_field_has_a_rule():
    fields = set(DecoySettings.__dataclass_fields__) - {"solver"}
    assert fields == set(option_rules.SOLVER)
    assert set(option_rules.DERIVED) <= fields


@pytest.mark.parametrize("name", sorted(option_rules.SOLVER))
def test_decoy_settings_refuse_nan_and_name_the_field(name):
    with pytest.raises(ValueError, match=name):
        DecoySettings(**{name: math.nan})


def test_decoy_settings_hand_cases():
    s = DecoySettings(max_steps=3.0, line_grid=4)
    assert type(s.max_steps) is int and s.max_steps == 3      # ints stay ints
    for bad in ({"line_grid": 2.5}, {"line_grid": 65}, {"tau_decay": 1.5}, {"backoff": 0},
                {"init_noise": -0.1}, {"epsilon": 0.0}, {"lambda_max": 1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            DecoySettings(**bad)
    with pytest.raises(TypeError, match="patience"):
        DecoySettings(patience=True)
    with pytest.raises(ValueError, match="solver"):
        DecoySettings(solver="sgd")


@pytest.mark.parametrize("name", sorted(option_rules.EXPLAINER))
def test_explainer_and_evaluation_refuse_the_same_nan(name):
    with pytest.raises(ValueError, match=name):
        dance_tf.Explainer(small_cnn(), **{name: math.nan})
    with pytest.raises(ValueError, match=name):
        checks.option(name, math.nan)
