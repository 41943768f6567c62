"""Property-based checks of every public option (issue 24), with Hypothesis.

For each built-in base method, ``saliency.get(name, **options)`` and the bound method's call
get values drawn for every one of the method's options; ``dance_tf.Explainer(...)`` gets
values drawn for its numeric and named options. Values: small valid ones, and hostile ones
(NaN, ±inf, negative, huge, 2.5 where a count is due, bools, text, None, lists, arrays of a
wrong shape or with NaN). The property: either a finite result of the right shape, or a
``DanceError`` / ``TypeError`` whose message names one of the drawn arguments — never a raw
TensorFlow, numpy or Keras error, never a hang (each example runs under an alarm of
``DANCE_TF_PROPERTY_SECONDS`` seconds, 60 by default: a hang fails as a TimeoutError).

Runs are reproducible (``derandomize=True``: the same examples every run). The default
is small for CI (the whole file takes well under a minute on 2 cores). For a release
check, run the longer search:

    DANCE_TF_PROPERTY_EXAMPLES=2000 python -m pytest -q tests/test_properties.py

Failures found in code this file does not test directly are listed in ``KNOWN`` (each with
its own strict-xfail test below) and kept out of the property by ``assume``.
"""

from __future__ import annotations

import os
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dance_tf
from dance_tf import saliency
from dance_tf.errors import DanceError
from dance_tf.saliency.base import own_options
from dance_tf.saliency.registry import BUILT_IN, resolve_method
from tests.saliency.tiny import tiny_cnn, tiny_inputs

EXAMPLES = int(os.environ.get("DANCE_TF_PROPERTY_EXAMPLES", "0"))
SECONDS = int(os.environ.get("DANCE_TF_PROPERTY_SECONDS", "60"))


def _settings(default: int):
    return settings(derandomize=True, max_examples=EXAMPLES or default, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)


@contextmanager
def time_limit(seconds: int):
    """Raise TimeoutError in the main thread after ``seconds`` (a hang is a failure)."""
    def alarm(signum, frame):
        raise TimeoutError(f"no result within {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


NAN, INF = float("nan"), float("inf")

#: values no option should take silently
HOSTILE = st.sampled_from([
    NAN, INF, -INF, -1, -1.0, 0, 0.0, 2.5, 1e300, -1e300, 2**31, 2**63, 10**30, True, False,
    "3", "", None, b"1", [1, 2], {}, np.zeros(3), np.zeros((2, 2)),
    np.full((8, 8, 1), NAN, np.float32), np.float32(NAN), np.int64(2),
])

#: small valid values per option (so a valid draw runs in seconds)
VALID = {
    "samples": st.integers(1, 3), "steps": st.integers(1, 3), "batch_size": st.integers(1, 8),
    "noise": st.one_of(st.floats(0, 1), st.sampled_from([1e6, 1e7, 1e38])),
    "seed": st.integers(0, 2**31 - 1), "resize": st.booleans(),
    "layer": st.sampled_from([None, "conv1", 1, "conv_1", "logits", 3, 0]),
    "baseline": st.sampled_from([None, 0.0, 0.5, np.zeros((8, 8, 1), np.float32)]),
    "references": st.sampled_from([None, tiny_inputs(3, seed=1), tiny_inputs(1, seed=2)[0]]),
    "baseline_range": st.sampled_from([None, (0.0, 1.0), (np.zeros((8, 8, 1)), 1.0),
                                       (1.0, 0.0), (0.0,)]),
}

MODEL = tiny_cnn()
XS = tiny_inputs(2)


def _option_values(names):
    return st.fixed_dictionaries({}, optional={
        n: st.one_of(VALID.get(n, st.nothing()), HOSTILE) for n in names})


def _names_an_argument(err: BaseException, names) -> bool:
    text = str(err)
    return any(n in text for n in names)


def _check_result(maps, shape):
    maps = np.asarray(maps)
    assert maps.shape == shape, (maps.shape, shape)
    assert np.all(np.isfinite(maps))


@pytest.mark.parametrize("name", BUILT_IN)
def test_base_method_options(name):
    names = own_options(resolve_method(name)[1])

    @_settings(default=12)
    @given(options=_option_values(names))
    def run(options):
        try:
            with time_limit(SECONDS), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                maps = saliency.get(name, **options)(MODEL, XS, [0, 2])
        except (DanceError, TypeError) as err:
            assert _names_an_argument(err, list(options) + ["x", "targets"]), repr(err)
            return
        coarse = name == "gradcam" and options.get("resize") is False
        _check_result(maps, (2, 8, 8) if coarse else XS.shape)

    run()


#: the Explainer's options drawn here, with small valid values
EXPLAINER_VALID = {
    "patch_size": st.sampled_from([None, 2, 4]), "stride": st.sampled_from([2, 4]),
    "patches_per_mask": st.sampled_from([None, 1, 4]),
    "epsilon": st.sampled_from([None, 0.01, 1.0]), "epsilon_rel": st.floats(0.01, 1),
    "line_grid": st.integers(1, 4), "line_bisect": st.integers(0, 3),
    "refine_steps": st.integers(0, 1), "refine_grid": st.integers(1, 3),
    "lambda0": st.floats(1, 1e4), "tau0": st.floats(0.1, 2), "max_steps": st.integers(1, 3),
    "learning_rate": st.floats(0.01, 1), "init_noise": st.floats(0, 0.1),
    "patience": st.integers(1, 3), "backoff": st.floats(0.1, 1),
    "noise_level": st.floats(0, 1), "decoy_batch_size": st.sampled_from([None, 1, 8]),
    "memory_budget_mb": st.floats(1, 64), "seed": st.integers(0, 2**31 - 1),
    "aggregation": st.sampled_from(["range", "mean", "range_covering", "max"]),
    "perturbation": st.sampled_from(["decoys", "constant", "noise", "blur"]),
    "packing": st.sampled_from(["paper", "tiles", "receptive_field", "grid"]),
    # "adam" is left out: its first compile takes ~16 s here (tests/test_decoys*.py cover it)
    "solver": st.sampled_from(["line_search", "sgd"]),
    "precision": st.sampled_from(["float32", "bfloat16", "float16"]),
    "use_crops": st.booleans(),
    "value_range": st.sampled_from([(0.0, 1.0), (1.0, 0.0), (np.zeros((8, 8, 1)), 1.0),
                                    (0.0,), (NAN, 1.0)]),
    "deviation_bound": st.sampled_from([None, 0.1, np.full((8, 8, 1), 0.2), -0.1]),
    "constant": st.sampled_from([None, 0.5, np.zeros((8, 8, 1)), np.zeros((3, 3))]),
}

#: failures the property found in code outside this helper's files: (option, value test,
#: where it fails) — each has a strict xfail test below; the property skips them
KNOWN: list = []   # none left: the solver is a choice of the options table now


def _known(options: dict) -> bool:
    return any(name in options and test(options[name]) for name, test, _ in KNOWN)


@_settings(default=30)
@given(options=st.fixed_dictionaries({}, optional={
    n: st.one_of(v, HOSTILE) for n, v in EXPLAINER_VALID.items()}).filter(
        lambda o: 1 <= len(o) <= 3))
def test_explainer_options(options):
    assume(not _known(options))
    settings_ = {"value_range": (0.0, 1.0), "patch_size": 4, "stride": 4, **options}
    x = XS[0]
    try:
        with time_limit(SECONDS), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            maps = dance_tf.Explainer(MODEL, **settings_)(x)
    except (DanceError, TypeError) as err:
        assert _names_an_argument(err, list(options) + ["x", "target", "memory"]), repr(err)
        return
    _check_result(maps, x.shape)


@pytest.mark.parametrize("value", [float("nan"), "sgd", 3])
def test_solver_outside_the_choices_is_named(value):
    try:
        dance_tf.Explainer(MODEL, value_range=(0.0, 1.0), solver=value)
    except (DanceError, TypeError) as err:
        assert "solver" in str(err)
    except ValueError as err:   # today: a plain ValueError
        raise AssertionError(f"plain ValueError: {err}") from err

