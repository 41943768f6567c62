"""The study's command line (issue 24): ``--report`` never hangs on a FIFO, reads a device
or writes through a link."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT


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
