"""The study's files (issue 24): a refused run never packs over the committed rows, the
packed rows are never shrunk, a stale git-ignored ``results.jsonl`` is never reported in
place of the newer packed rows, and ``--report`` never hangs on a FIFO or reads a device.
Rows are counted in the gzip files themselves."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import textwrap

import pytest

from dance_tf.evaluation.results import EvaluationError
from dance_tf.study import conditions
from tests.conftest import ROOT
from tests.evaluation.test_checks_hostile import tiny_task


def _packed_rows(folder) -> list[dict]:
    with gzip.open(folder / "results.jsonl.gz", "rt") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture
def condition_folder(tmp_path, monkeypatch):
    """A condition run once on a tiny task: 4 rows, packed; returns (cond, root, folder)."""
    import dance_tf.tasks

    monkeypatch.setattr(dance_tf.tasks, "build_task", lambda name, options: tiny_task(n=4))
    cond = conditions.Condition("digits", "digits", "main", 4, methods=("gradient",),
                                variants=("none",), k=(0.2,))
    root = tmp_path / "reproduction"
    conditions.run(cond, root, seed=0, log=lambda *_: None)
    folder = root / "digits"
    assert len(_packed_rows(folder)) == 4
    return cond, root, folder


def _make_stale(folder, keep=1):
    plain = folder / "results.jsonl"
    plain.write_text("".join(plain.read_text().splitlines(keepends=True)[:keep]))


def test_a_refused_run_never_packs_the_stale_working_rows(condition_folder):
    cond, root, folder = condition_folder
    _make_stale(folder)   # an old git-ignored working file beside the committed rows
    packed, runs = (folder / "results.jsonl.gz").read_bytes(), (folder / "runs.jsonl").read_text()
    with pytest.raises(EvaluationError, match="another configuration"):
        conditions.run(cond, root, seed=1, log=lambda *_: None)   # seed 1 ≠ the folder's 0
    assert (folder / "results.jsonl.gz").read_bytes() == packed   # still 4 rows, untouched
    assert (folder / "runs.jsonl").read_text() == runs            # no sitting logged


def test_pack_never_drops_a_packed_row(condition_folder):
    _, _, folder = condition_folder
    lines = (folder / "results.jsonl").read_text().splitlines(keepends=True)
    other = json.loads(lines[0])
    other["id"] = "not-packed"
    (folder / "results.jsonl").write_text(lines[1] + json.dumps(other) + "\n")
    with pytest.raises(EvaluationError, match="each hold rows the other lacks"):
        conditions.load_rows(folder)
    with pytest.raises(EvaluationError, match="lacks; not packed"):
        conditions.pack(folder)
    assert len(_packed_rows(folder)) == 4


def test_report_uses_the_packed_rows_when_the_working_file_is_stale(condition_folder):
    _, _, folder = condition_folder
    _make_stale(folder, keep=2)
    notes = []
    _, rows = conditions.load_rows(folder, log=notes.append)
    assert len(rows) == 4 and len(notes) == 1 and "older than results.jsonl.gz" in notes[0]
    # a working file with every packed row and more is the newer one: no note
    (folder / "results.jsonl").write_bytes(gzip.decompress(
        (folder / "results.jsonl.gz").read_bytes()))
    notes.clear()
    assert len(conditions.load_rows(folder, log=notes.append)[1]) == 4 and not notes


def _reproduce(tmp_path, report, timeout=60):
    """``reproduce --report-only --report REPORT`` in a child limited to 2 GB of memory."""
    code = textwrap.dedent(f"""
        import sys
        from dance_tf.study.cli import main
        sys.exit(main(["--report-only", "--root", {str(tmp_path / "none")!r},
                       "--report", {str(report)!r}]))
    """)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, env=env)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "link"])
def test_report_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    report = tmp_path / "REPRODUCTION.md"
    if kind == "fifo":
        os.mkfifo(report)
    elif kind == "dev_zero":
        report = "/dev/zero"
    else:
        target = tmp_path / "elsewhere.md"
        target.write_text("# Reproduction of DANCE\nprecious\n")
        report.symlink_to(target)
    try:
        done = _reproduce(tmp_path, report)
    except subprocess.TimeoutExpired:
        pytest.fail("--report blocked")
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("reproduce.py: error:") and str(report) in last
    if kind == "link":
        assert (tmp_path / "elsewhere.md").read_text().endswith("precious\n")
