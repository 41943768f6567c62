"""Hostile settings and resumptions of an evaluation (issue 13): every bad value on the
command line is refused at parse time naming its flag or option, valid ones are typed;
a rerun adds a new K's table, keeps the old K's numbers, and refuses an input changed
under the same id."""

from __future__ import annotations

import pytest

from dance_tf.evaluation import cli as ev_cli
from tests.evaluation.conftest import result_lines, run_eval, tiny_task


# ---------------------------------------------------------------------- evaluation runner
def test_new_k_adds_its_table(tmp_path):
    # before: "0 rows to compute" and no K = 50 % table
    run_eval(tmp_path, "--k", "0.2")
    text = run_eval(tmp_path, "--k", "0.2,0.5")
    assert "K = 50%" in text and "K = 20%" in text
    latest = {(r["id"], r["method"], r["variant"]): r for r in result_lines(tmp_path)}
    assert all(set(r["sf"]) == {"0.2", "0.5"} for r in latest.values())


def test_a_k_list_without_the_old_k_keeps_it(tmp_path):
    run_eval(tmp_path, "--k", "0.2")
    first = {(r["id"], r["method"], r["variant"]): r["sf"]["0.2"]
             for r in result_lines(tmp_path)}
    text = run_eval(tmp_path, "--k", "0.5")
    latest = {(r["id"], r["method"], r["variant"]): r["sf"] for r in result_lines(tmp_path)}
    assert {key: sf["0.2"] for key, sf in latest.items()} == first
    assert all("0.5" in sf for sf in latest.values())
    assert "K = 20%" in text and "K = 50%" in text


def test_changed_input_under_the_same_id_is_an_error(tmp_path):
    run_eval(tmp_path)
    other = tiny_task(seed=5)
    with pytest.raises(ValueError, match=r"x0.*different input"):
        run_eval(tmp_path, task=other)


# ---------------------------------------------------------------------- the settings
@pytest.mark.parametrize("argv,named", [
    (["--count", "0"], "--count"),                 # before: ran 32 inputs
    (["--count", "-3"], "--count"),
    (["--seed", "-1"], "--seed"),
    (["--ig-steps", "0"], "--ig-steps"),
    (["--sg-samples", "0"], "--sg-samples"),
    (["--sg-noise", "nan"], "--sg-noise"),
    (["--attack-iterations", "0"], "--attack-iterations"),
    (["--examples", "-1"], "--examples"),
    (["--k", "0.2,0.2"], "--k"),
    (["--k", "nan"], "--k"),
    (["--k", "abc"], "--k"),
    (["--option", "max_steps=abc"], "max_steps"),  # before: string reached the explainer
    (["--option", "max_steps=nan"], "max_steps"),
    (["--option", "max_steps=2.5"], "max_steps"),
    (["--option", "memory_budget_mb=inf"], "memory_budget_mb"),
    (["--option", "epsilon=-1"], "epsilon"),
    (["--option", "seed=None"], "seed"),
    (["--option", "steps=3"], "steps"),
    (["--option", "nokey"], "--option"),
])
def test_bad_numbers_are_refused_at_parse_time(argv, named, capsys):
    with pytest.raises(SystemExit) as err:
        ev_cli.parse(argv)
    assert err.value.code == 2
    assert named in capsys.readouterr().err


def test_valid_options_are_typed():
    args = ev_cli.parse(["--option", "max_steps=5", "--option", "epsilon=none", "--option",
                     "solver=adam",
                     "--option", "packing=tiles", "--option", "layer=2",
                     "--option", "learning_rate=1e-2"])
    assert args.options == {"max_steps": 5, "epsilon": None, "solver": "adam",
                            "packing": "tiles", "layer": 2, "learning_rate": 0.01}
    assert type(args.options["max_steps"]) is int
