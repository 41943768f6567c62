"""scripts/evaluate.py: the report, resumption after SIGKILL, and shards."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.evaluation.conftest import SCRIPT, run_script


def rows(out):
    lines = []
    for path in sorted(Path(out).glob("results*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return {(r["id"], r["method"], r["variant"]): r["sf"] for r in lines}, len(lines)


def test_killed_run_resumes_to_the_same_rows(digits_model_path, tmp_path):
    full = run_script(digits_model_path, tmp_path / "full")
    assert "Fidelity SF" in full.stdout and "with decoys" in full.stdout
    expected, n = rows(tmp_path / "full")
    assert n == 9 and len(expected) == 9
    assert (tmp_path / "full" / "report.md").exists()
    assert list((tmp_path / "full").glob("fidelity_k20.png"))
    assert list((tmp_path / "full" / "examples").glob("*.png"))

    out = tmp_path / "killed"
    proc = run_script(digits_model_path, out, wait=False)
    results = out / "results.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and results.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial, _ = rows(out)
    assert 1 <= len(partial) < 9 or proc.returncode == 0
    run_script(digits_model_path, out)
    got, n_lines = rows(out)
    assert n_lines == 9  # no duplicated rows
    assert got == expected


def test_shards_merge_into_one_report(digits_model_path, tmp_path):
    out = tmp_path / "sharded"
    run_script(digits_model_path, out, "--num-shards", "2", "--shard-index", "0")
    last = run_script(digits_model_path, out, "--num-shards", "2", "--shard-index", "1")
    got, n = rows(out)
    assert n == 9 and len({k[0] for k in got}) == 3
    assert "3 inputs" in last.stdout


def test_mirrored_strategy_gives_the_same_rows(digits_model_path, tmp_path):
    plain = tmp_path / "plain"
    run_script(digits_model_path, plain, "--variants", "decoys")
    mirrored = tmp_path / "mirrored"
    env = {**os.environ, "DANCE_TF_LOGICAL_CPUS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, str(SCRIPT), "--model", str(digits_model_path), "--count", "3",
           "--methods", "gradient", "--variants", "decoys", "--quiet", "--examples", "0",
           "--out", str(mirrored), "--strategy", "mirrored"]
    subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    a, _ = rows(plain)
    b, n = rows(mirrored)
    assert n == 3
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-4)
