"""Shared by the evaluation tests: the untrained digits CNN file, ``scripts/evaluate.py``
run in a child process, and a tiny task evaluated in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from dance_tf.evaluation import cli as ev_cli
from dance_tf.evaluation import runner
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.report import report
from dance_tf.tasks.base import Task
from tests.conftest import ROOT, small_cnn

SCRIPT = ROOT / "scripts" / "evaluate.py"


@pytest.fixture(scope="session")
def digits_model_path(tmp_path_factory):
    from dance_tf.models import digits as digits_model

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "digits.keras"
    digits_model.build().save(path)   # untrained but fixed: enough for the machinery
    return path


def run_script(model_path, out, *extra, wait=True):
    """``scripts/evaluate.py`` on 3 inputs, gradient, variants none/decoys/constant."""
    cmd = [sys.executable, str(SCRIPT), "--model", str(model_path), "--count", "3",
           "--methods", "gradient", "--variants", "none,decoys,constant", "--quiet",
           "--examples", "1", "--out", str(out), *extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def tiny_task(name="digits", n=3, seed=0, model=None):
    rng = np.random.default_rng(seed)
    return Task(name=name, model=model or small_cnn(size=8, classes=3),
                inputs=list(rng.random((n, 8, 8, 1), dtype=np.float32)),
                ids=[f"x{i}" for i in range(n)], value_range=(0.0, 1.0),
                explainer_options={"layer": "pool1", "patch_size": 3,
                                   "patches_per_mask": 100},
                labels=[0] * n, feature_ndim=2)


def run_eval(out, *argv, task=None):
    """One evaluation + report in-process, as evaluate.main does it (no subprocess)."""
    args = ev_cli.parse(["--out", str(out), "--methods", "gradient", "--variants", "none",
                     "--quiet", "--examples", "0", *argv])
    task = task or tiny_task()
    task.explainer_options.update(args.options)
    runner.evaluate(task, EvalConfig.from_namespace(args), log=lambda *_: None)
    return report(Path(out), task, log=lambda *_: None)


def result_lines(out):
    return [json.loads(line) for p in sorted(Path(out).glob("results*.jsonl"))
            for line in p.read_text().splitlines()]
