"""scripts/evaluate.py: the report, resumption after SIGKILL, and shards."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

from dance_tf.models import digits as digits_model
from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "evaluate.py"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "digits.keras"
    digits_model.build().save(path)  # untrained but fixed: enough to test the machinery
    return path


def run(model_path, out, *extra, wait=True):
    cmd = [sys.executable, str(SCRIPT), "--model", str(model_path), "--count", "3",
           "--methods", "gradient", "--variants", "none,decoys,constant", "--quiet",
           "--examples", "1", "--out", str(out), *extra]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def rows(out):
    lines = []
    for path in sorted(Path(out).glob("results*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return {(r["id"], r["method"], r["variant"]): r["sf"] for r in lines}, len(lines)


def test_killed_run_resumes_to_the_same_rows(model_path, tmp_path):
    full = run(model_path, tmp_path / "full")
    assert "Fidelity SF" in full.stdout and "with decoys" in full.stdout
    expected, n = rows(tmp_path / "full")
    assert n == 9 and len(expected) == 9
    assert (tmp_path / "full" / "report.md").exists()
    assert list((tmp_path / "full").glob("fidelity_k20.png"))
    assert list((tmp_path / "full" / "examples").glob("*.png"))

    out = tmp_path / "killed"
    proc = run(model_path, out, wait=False)
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
    run(model_path, out)
    got, n_lines = rows(out)
    assert n_lines == 9  # no duplicated rows
    assert got == expected


def test_shards_merge_into_one_report(model_path, tmp_path):
    out = tmp_path / "sharded"
    run(model_path, out, "--num-shards", "2", "--shard-index", "0")
    last = run(model_path, out, "--num-shards", "2", "--shard-index", "1")
    got, n = rows(out)
    assert n == 9 and len({k[0] for k in got}) == 3
    assert "3 inputs" in last.stdout


def test_mirrored_strategy_gives_the_same_rows(model_path, tmp_path):
    plain = tmp_path / "plain"
    run(model_path, plain, "--variants", "decoys")
    mirrored = tmp_path / "mirrored"
    env = {**os.environ, "DANCE_TF_LOGICAL_CPUS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, str(SCRIPT), "--model", str(model_path), "--count", "3",
           "--methods", "gradient", "--variants", "decoys", "--quiet", "--examples", "0",
           "--out", str(mirrored), "--strategy", "mirrored"]
    subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    a, _ = rows(plain)
    b, n = rows(mirrored)
    assert n == 3
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-4)


def test_worker_shard_from_tf_config():
    from dance_tf.distribute import worker_shard

    cluster = {"chief": ["h0:1"], "worker": ["h1:1", "h2:1"], "ps": ["h3:1"]}
    cfg = {"cluster": cluster, "task": {"type": "worker", "index": 1}}
    assert worker_shard(json.dumps(cfg)) == (2, 3)
    cfg["task"] = {"type": "chief", "index": 0}
    assert worker_shard(json.dumps(cfg)) == (0, 3)
    cfg["task"] = {"type": "ps", "index": 0}
    with pytest.raises(ValueError, match="TF_CONFIG"):
        worker_shard(json.dumps(cfg))
    with pytest.raises(ValueError, match="TF_CONFIG"):
        worker_shard("{not json")


def test_attack_rows_and_report(model_path, tmp_path):
    out = tmp_path / "attacks"
    done = run(model_path, out, "--variants", "none", "--attacks", "topk,mass_center",
               "--attack-iterations", "5")
    assert "Robustness to explanation attacks" in done.stdout
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    attacked = [r for r in rows if r["variant"].startswith("attack:")]
    assert len(attacked) == 6
    for r in attacked:
        assert r["label_after_attack"] == r["target"]
        assert r["linf"] <= 8 / 255 + 1e-6  # the default budget on a [0, 1] range
        assert {"ss_none", "ss_decoys", "center_shift_decoys"} <= set(r)
    assert (out / "sensitivity.png").exists()
