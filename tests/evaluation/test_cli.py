"""The evaluation's command line: ``dance-tf evaluate`` is evaluate.py's own parser under
another name, and --seed and --split-seed are separate settings."""

from __future__ import annotations

import pytest

from dance_tf import cli as dance_cli
from dance_tf.evaluation import cli as ev_cli


def test_dance_tf_evaluate_names_itself_without_patching_anything(capsys):
    # the same parser as scripts/evaluate.py, only the program name differs
    with pytest.raises(SystemExit):
        ev_cli.parse(["--help"])
    script_help = capsys.readouterr().out
    with pytest.raises(SystemExit) as err:
        dance_cli.main(["evaluate", "--help"])
    assert err.value.code == 0
    named_help = capsys.readouterr().out
    assert named_help.startswith("usage: dance-tf evaluate")
    # usage lines wrap by the name's length; everything after them is the same text
    assert named_help.split("\n\n", 1)[1] == script_help.split("\n\n", 1)[1]
    assert (" ".join(named_help.split("\n\n", 1)[0].split()[3:])
            == " ".join(script_help.split("\n\n", 1)[0].split()[2:]))
    with pytest.raises(SystemExit) as err:
        dance_cli.main(["evaluate", "--count", "0"])
    assert err.value.code == 2
    assert "dance-tf evaluate: error: argument --count: count:" in capsys.readouterr().err
    assert ev_cli.parser().prog == "evaluate.py"   # nothing was left renamed


def test_split_seed_is_separate_from_seed():
    args = ev_cli.parse(["--seed", "3"])
    assert args.seed == 3 and args.split_seed == 0
    assert ev_cli.parse(["--split-seed", "4"]).split_seed == 4
