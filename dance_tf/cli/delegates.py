"""The commands whose parsers live elsewhere, handed their arguments untouched:
``dance-tf evaluate`` (``dance_tf.evaluation.cli``), ``dance-tf reproduce``
(``dance_tf.study.cli``) and ``dance-tf bench`` (``benchmarks/run.py`` of a source
checkout). Each parses before it imports TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path

from dance_tf.cli.console import CLIError, quiet_tensorflow


def cmd_evaluate(argv) -> int:
    """The batch evaluation (dance_tf.evaluation.cli; parses before importing TensorFlow)."""
    from dance_tf.evaluation.cli import main as evaluate_main

    if "--help" not in argv and "-h" not in argv:
        quiet_tensorflow("--verbose" in argv)
    return int(evaluate_main(argv, prog="dance-tf evaluate") or 0)


def cmd_reproduce(argv) -> int:
    """The reproduction study (dance_tf.study.cli; parses before importing TensorFlow)."""
    from dance_tf.study.cli import main as reproduce_main

    return int(reproduce_main(argv, prog="dance-tf reproduce") or 0)


def benchmarks_dir() -> Path:
    """The source checkout's benchmarks/ folder (not part of an installed wheel)."""
    return Path(__file__).resolve().parents[2] / "benchmarks"


def cmd_bench(argv) -> int:
    """The benchmarks (benchmarks/run.py of the source checkout, imported from its file)."""
    runner = benchmarks_dir() / "run.py"
    if not runner.is_file():
        raise CLIError(f"bench: {runner} not found; the benchmarks live in the source "
                       "checkout (git clone), not in an installed wheel")
    import importlib.util

    spec = importlib.util.spec_from_file_location("dance_tf_benchmarks_run", runner)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(runner.parent))
    try:
        spec.loader.exec_module(module)
        return int(module.main(argv) or 0)
    finally:
        sys.path.remove(str(runner.parent))
