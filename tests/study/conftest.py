"""Shared by the study's tests: a condition folder run once on a tiny task."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from dance_tf.study import condition_run, conditions
from tests.evaluation.test_checks_hostile import tiny_task


def packed_rows(folder) -> list[dict]:
    """The rows of ``folder``'s ``results.jsonl.gz``, counted in the gzip file itself."""
    with gzip.open(folder / "results.jsonl.gz", "rt") as handle:
        return [json.loads(line) for line in handle]


def make_stale(folder, keep=1):
    """Cut the working ``results.jsonl`` to its first ``keep`` rows (an old git-ignored
    working file beside newer packed rows)."""
    plain = folder / "results.jsonl"
    plain.write_text("".join(plain.read_text().splitlines(keepends=True)[:keep]))


@pytest.fixture
def condition_folder(tmp_path, monkeypatch):
    """A condition run once on a tiny task: 4 rows, packed; returns (cond, root, folder)."""
    import dance_tf.tasks

    monkeypatch.setattr(dance_tf.tasks, "build_task", lambda name, options: tiny_task(n=4))
    cond = conditions.Condition("digits", "digits", "main", 4, methods=("gradient",),
                                variants=("none",), k=(0.2,))
    root = tmp_path / "reproduction"
    condition_run.run(cond, root, seed=0, log=lambda *_: None)
    folder = root / "digits"
    assert len(packed_rows(folder)) == 4
    return cond, root, folder


def holm_by_hand(p):
    """Step-down Holm, written out: sorted p times (m, m − 1, ...), running max, cap 1."""
    order, out, running = np.argsort(p), np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        out[i] = min(1.0, running)
    return out
