"""``OUT/config.json`` (issue 13): a rerun with another setting or other model weights
stops naming what differs, the same configuration resumes, and a row of another task in
the folder is an error naming the file and line."""

from __future__ import annotations

import json

import pytest

from dance_tf.evaluation.report import report
from tests.conftest import small_cnn
from tests.evaluation.conftest import result_lines, run_eval, tiny_task


@pytest.mark.parametrize("first,second,named", [
    ((), ("--seed", "1"), "seed"),
    ((), ("--option", "line_grid=2"), "line_grid"),
    ((), ("--sg-samples", "7"), "sg_samples"),
    ((), ("--ig-steps", "9"), "ig_steps"),
])
def test_rerun_with_another_configuration_stops_naming_the_option(tmp_path, first, second,
                                                                   named):
    # before: only the missing rows were computed and one table mixed both settings
    run_eval(tmp_path, *first)
    n_before = len(result_lines(tmp_path))
    with pytest.raises(ValueError, match=named) as err:
        run_eval(tmp_path, *second)
    assert str(tmp_path) in str(err.value)
    assert len(result_lines(tmp_path)) == n_before   # nothing written


def test_same_configuration_resumes(tmp_path):
    run_eval(tmp_path)
    rows = result_lines(tmp_path)
    run_eval(tmp_path)                                # same settings: nothing to redo
    assert result_lines(tmp_path) == rows
    assert (tmp_path / "config.json").is_file()


def test_changed_model_weights_are_a_different_configuration(tmp_path):
    run_eval(tmp_path)
    other = tiny_task(model=small_cnn(size=8, classes=3, seed=9))
    with pytest.raises(ValueError, match="model"):
        run_eval(tmp_path, task=other)


def test_row_from_another_task_is_an_error(tmp_path):
    # before: the report was retitled with the other task's name
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    row = json.loads(path.read_text().splitlines()[0])
    row.update(task="sst", id="intruder")
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"results\.jsonl.*line 4.*sst"):
        report(tmp_path, tiny_task(), log=lambda *_: None)
