"""Property test of the command line's flags (issue 24): every flag of ``dance-tf explain``
given a drawn value (numbers, nan, inf, negatives, huge, words, empty) either parses into
options an ``Explainer`` accepts, or is refused as argparse does — exit status 2 and one
line naming the flag — or, for a value only the explainer can judge, a ``DanceError`` /
``TypeError`` naming the option. Never a raw traceback. Fixed seed in CI; more examples
with ``DANCE_TF_PROPERTY_EXAMPLES`` (release checks: 2000)."""

from __future__ import annotations

import contextlib
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dance_tf
from dance_tf import cli
from dance_tf.cli import explainer_flags
from dance_tf.errors import DanceError
from tests.conftest import small_cnn

EXAMPLES = int(os.environ.get("DANCE_TF_PROPERTY_EXAMPLES", "0")) or 60
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "2.5", "nan", "inf", "-inf", "1e309", "1e-300",
                     "", "abc", "none", "None", "true", "False", "3,4", "0x10",
                     "line_search", "adam", "tiles", "paper", "range", "mean"]),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _explain_flags() -> list[str]:
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    explain = sub.choices["explain"]
    skip = {"-h", "--help", "--out", "--model", "--checkpoint", "--verbose", "--force",
            "--sentence", "--row", "--label"}
    return sorted(s for a in explain._actions for s in a.option_strings
                  if s.startswith("--") and s not in skip and a.nargs != 0)


FLAGS = _explain_flags()


def test_every_explainer_option_has_a_flag():
    assert len(FLAGS) > 30 and "--solver" in FLAGS and "--use-crops" not in FLAGS


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(flag=st.sampled_from(FLAGS), value=VALUES)
def test_a_drawn_flag_value_parses_or_is_refused_by_name(flag, value):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = cli.build_parser().parse_args(["explain", "x.png", flag, value])
    except SystemExit as stop:
        lines = [ln for ln in err.getvalue().splitlines() if "error:" in ln]
        assert stop.code == 2 and len(lines) == 1, err.getvalue()
        assert flag in lines[0] or flag.lstrip("-").replace("-", "_") in lines[0], lines[0]
        return
    try:
        options = explainer_flags.explainer_options(args)
        dance_tf.Explainer(small_cnn(), **options)
    except (DanceError, TypeError) as refusal:
        name = flag.lstrip("-").replace("-", "_")
        assert name in str(refusal) or flag in str(refusal) or "method" in str(refusal), (
            refusal)


@pytest.mark.parametrize("flag,value", [("--max-steps", "3"), ("--line-grid", "0"),
                                        ("--sg-samples", "0"), ("--epsilon-rel", "nan")])
def test_known_refusals_are_one_line(flag, value, tmp_path, capsys):
    try:
        code = cli.main(["explain", str(tmp_path / "none.png"), flag, value])
    except SystemExit as stop:   # argparse's refusal
        code = stop.code
    assert code == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "error" in lines[0]
