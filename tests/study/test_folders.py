"""The study's condition-folder files (issue 24): the packed rows are never shrunk, and a
stale git-ignored ``results.jsonl`` is never reported in place of the newer packed rows.
Rows are counted in the gzip files themselves."""

from __future__ import annotations

import gzip
import json

import pytest

from dance_tf.evaluation.results import EvaluationError
from dance_tf.study import folders
from tests.study.conftest import make_stale, packed_rows


def test_pack_never_drops_a_packed_row(condition_folder):
    _, _, folder = condition_folder
    lines = (folder / "results.jsonl").read_text().splitlines(keepends=True)
    other = json.loads(lines[0])
    other["id"] = "not-packed"
    (folder / "results.jsonl").write_text(lines[1] + json.dumps(other) + "\n")
    with pytest.raises(EvaluationError, match="each hold rows the other lacks"):
        folders.load_rows(folder)
    with pytest.raises(EvaluationError, match="lacks; not packed"):
        folders.pack(folder)
    assert len(packed_rows(folder)) == 4


def test_report_uses_the_packed_rows_when_the_working_file_is_stale(condition_folder):
    _, _, folder = condition_folder
    make_stale(folder, keep=2)
    notes = []
    _, rows = folders.load_rows(folder, log=notes.append)
    assert len(rows) == 4 and len(notes) == 1 and "older than results.jsonl.gz" in notes[0]
    # a working file with every packed row and more is the newer one: no note
    (folder / "results.jsonl").write_bytes(gzip.decompress(
        (folder / "results.jsonl.gz").read_bytes()))
    notes.clear()
    assert len(folders.load_rows(folder, log=notes.append)[1]) == 4 and not notes
