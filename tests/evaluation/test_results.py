"""The results files (issue 13): a row without its key fields or a corrupt line names the
file and line; a results path that is not a regular file (a FIFO, /dev/full) is refused
instead of hanging or being read without end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from dance_tf.evaluation.report import report
from tests.conftest import ROOT
from tests.evaluation.conftest import run_eval, tiny_task


def test_row_without_key_fields_names_file_and_line(tmp_path):
    # before: KeyError: 'id' on every rerun
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    with open(path, "a") as handle:
        handle.write(json.dumps({"method": "gradient"}) + "\n")
    with pytest.raises(ValueError, match=r"results\.jsonl: line 4.*'id'"):
        run_eval(tmp_path)


def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path):
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, "{not json\n")
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"results\.jsonl: line 2"):
        report(tmp_path, tiny_task(), log=lambda *_: None)


def _child(code: str, timeout=120):
    """Run ``code`` in a child with 1 GB of address space: an unbounded read fails fast."""
    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit)


@pytest.mark.parametrize("kind", ["fifo", "dev_full"])
def test_results_file_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    # before: a FIFO hangs in open(); /dev/full is read without end
    path = tmp_path / "results.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/full", path)
    code = f"""
        from pathlib import Path
        from dance_tf.evaluation.results import ResultsFile
        try:
            ResultsFile(Path({str(path)!r}))
        except ValueError as err:
            print("REFUSED", err)
    """
    try:
        done = _child(code, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("opening a non-regular results file hung")
    assert "REFUSED" in done.stdout and "results.jsonl" in done.stdout, done.stderr[-2000:]
    assert "regular file" in done.stdout
