"""The dance-tf command (dance_tf.cli: the top-level parser and dispatch): the commands
listed, help without importing TensorFlow, a parse error in one line, the console script
and ``python -m dance_tf.cli``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from dance_tf import cli
from tests.cli.conftest import help_text, one_error_line


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_top_level_help_lists_the_four_commands(capsys):
    text = help_text([], capsys)
    for command in ("explain", "evaluate", "export", "bench"):
        assert command in text


def test_console_script_is_installed():
    exe = shutil.which("dance-tf")
    if exe is None:
        pytest.skip("dance-tf console script not on PATH (package not installed)")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "explain" in proc.stdout


def test_python_m_runs_the_command():
    proc = subprocess.run([sys.executable, "-m", "dance_tf.cli", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "explain" in proc.stdout and "usage: dance-tf" in proc.stdout


def test_help_does_not_import_tensorflow():
    proc = _python("""
        import sys
        from dance_tf.cli import main
        for argv in (["--help"], ["explain", "--help"], ["export", "--help"],
                     ["evaluate", "--help"]):
            try:
                main(argv)
            except SystemExit:
                pass
        print("TF-IMPORTED" if "tensorflow" in sys.modules else "TF-NOT-IMPORTED")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "TF-NOT-IMPORTED" in proc.stdout
    assert "usage: dance-tf evaluate" in proc.stdout


def test_unknown_flag_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--no-such-flag"])
    assert exit_.value.code == 2
    assert "--no-such-flag" in one_error_line(capsys)
