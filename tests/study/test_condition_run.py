"""Running a condition (issue 24): a refused run never packs over the committed rows and
logs no sitting."""

from __future__ import annotations

import pytest

from dance_tf.evaluation.results import EvaluationError
from dance_tf.study import condition_run
from tests.study.conftest import make_stale


def test_a_refused_run_never_packs_the_stale_working_rows(condition_folder):
    cond, root, folder = condition_folder
    make_stale(folder)   # an old git-ignored working file beside the committed rows
    packed, runs = (folder / "results.jsonl.gz").read_bytes(), (folder / "runs.jsonl").read_text()
    with pytest.raises(EvaluationError, match="another configuration"):
        condition_run.run(cond, root, seed=1, log=lambda *_: None)   # seed 1 ≠ the folder's 0
    assert (folder / "results.jsonl.gz").read_bytes() == packed   # still 4 rows, untouched
    assert (folder / "runs.jsonl").read_text() == runs            # no sitting logged
