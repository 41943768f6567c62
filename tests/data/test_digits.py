"""dance_tf.data.digits: the arguments of the split are checked, naming each."""

import pytest


def test_digits_split_arguments_are_validated():
    from dance_tf.data import digits as digits_data

    for kw in ({"seed": -1}, {"seed": 1.5}, {"test_fraction": 0.0},
               {"test_fraction": float("nan")}, {"size": 4}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            digits_data.load(**kw)
