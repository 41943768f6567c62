"""The delegated commands (dance_tf.cli.delegates): evaluate and bench answer --help with
their own parsers; bench finds the checkout's benchmarks/ and, where there is none (an
installed wheel), says so in one line."""

from __future__ import annotations

from dance_tf import cli
from dance_tf.cli import delegates
from tests.cli.conftest import help_text
from tests.conftest import ROOT


def test_evaluate_and_bench_delegate_their_help(capsys):
    assert "--task" in help_text(["evaluate"], capsys)
    text = help_text(["bench"], capsys)
    assert "--only" in text and "R1" in text


def test_bench_without_a_checkout_is_one_line(monkeypatch, tmp_path, capsys):
    assert delegates.benchmarks_dir() == ROOT / "benchmarks"
    monkeypatch.setattr(delegates, "benchmarks_dir", lambda: tmp_path)
    assert cli.main(["bench"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dance-tf: error: bench:") and "not found" in err
    assert err.count("\n") == 1
