"""The decoy solver's settings (DecoySettings): ints stay ints, every bad value is
refused naming its setting."""

import pytest

from dance_tf.decoys.settings import DecoySettings


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
