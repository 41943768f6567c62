"""The package as users install it: the wheel and the sdist build from a copy of the
sources, the wheel installs into a fresh virtual environment (``--system-site-packages``,
so TensorFlow comes from this machine and nothing is downloaded; ``--no-deps``), and from
a folder outside the checkout ``dance-tf --help``, one ``dance-tf explain`` and
``import dance_tf`` run against the installed copy (not the editable checkout), with the
packaged samples, class names and ``py.typed``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what the sdist / wheel are built from (a copy, so the checkout gets no build/ folder)
SOURCES = ("setup.py", "setup.cfg", "README.md", "dance_tf")
#: files every install must hold (relative to the site-packages folder)
PACKAGED = ("dance_tf/py.typed", "dance_tf/data/imagenet_1000_classes.csv",
            "dance_tf/data/samples/README.md", "dance_tf/data/samples/stsa.binary.dev.gz",
            "dance_tf/data/samples/stsa.binary.train.gz",
            "dance_tf/data/samples/glove.6B.50d.sst.txt.gz",
            "dance_tf/data/samples/ids2018_sample.csv.gz")


def _run(cmd, cwd, env=None, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _clean_env(venv_dir: Path) -> dict:
    """The environment of a user's shell in the venv: no PYTHONPATH into the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", dist, src], cwd=tmp)
    try:
        import build  # noqa: F401
        _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", dist, src],
             cwd=tmp)
    except ImportError:   # setuptools' own sdist
        _run([sys.executable, "setup.py", "-q", "sdist", "-d", dist], cwd=src)
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    return {"tmp": tmp, "wheel": wheels[0], "sdist": sdists[0]}


def test_wheel_and_sdist_hold_the_data(built):
    with zipfile.ZipFile(built["wheel"]) as z:
        names = set(z.namelist())
    assert set(PACKAGED) <= names, set(PACKAGED) - names
    assert not any(n.startswith(("tests/", "docs/", "scripts/")) for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(built["wheel"]) as z:
        assert "dance-tf = dance_tf.cli:main" in z.read(entry).decode()
    with tarfile.open(built["sdist"]) as t:
        members = {m.split("/", 1)[1] for m in t.getnames() if "/" in m}
    assert set(PACKAGED) <= members, set(PACKAGED) - members


@pytest.fixture(scope="module")
def installed(built) -> dict:
    venv_dir = built["tmp"] / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(venv_dir)
    python = venv_dir / "bin" / "python"
    # the machine's pip, run by the venv's interpreter, installs into the venv
    env = _clean_env(venv_dir)
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
          "-q", built["wheel"]], cwd=built["tmp"], env=env)
    work = built["tmp"] / "user"
    work.mkdir()
    return {"venv": venv_dir, "python": python, "env": env, "work": work}


def test_import_is_the_installed_copy_with_its_data(installed):
    code = """
import json, sys, tempfile
from pathlib import Path
import dance_tf
from dance_tf.data import samples
from dance_tf.data.imagenet import load_class_table
pkg = Path(dance_tf.__file__).resolve().parent
out = tempfile.mkdtemp()
print(json.dumps({
    "file": dance_tf.__file__, "version": dance_tf.__version__,
    "typed": (pkg / "py.typed").is_file(),
    "class0": load_class_table().name(0), "class999": load_class_table().name(999),
    "samples": {n: samples.path(n, out).stat().st_size for n in sorted(samples.FILES)},
    "errors": issubclass(dance_tf.InputError, ValueError),
}))
"""
    proc = _run([installed["python"], "-c", code], cwd=installed["work"],
                env=installed["env"])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    venv_dir = str(installed["venv"].resolve())
    assert Path(got["file"]).resolve().as_posix().startswith(venv_dir), got["file"]
    assert not Path(got["file"]).resolve().is_relative_to(ROOT)
    assert got["typed"] and got["errors"]
    assert got["class0"] == "tench" and got["class999"] == "toilet_tissue"
    assert set(got["samples"]) == {"stsa.binary.train", "stsa.binary.dev",
                                   "glove.6B.50d.sst.txt", "ids2018_sample.csv"}
    assert all(size > 10_000 for size in got["samples"].values())


def test_console_script_help(installed):
    script = installed["venv"] / "bin" / "dance-tf"
    assert script.is_file()
    proc = _run([script, "--help"], cwd=installed["work"], env=installed["env"])
    assert "explain" in proc.stdout and "export" in proc.stdout


def test_console_script_explains_a_bundled_digit(installed):
    """A digit of scikit-learn's bundled set (what the package's embedded task uses) as a
    PNG and a tiny .keras classifier; the explain command writes its four files."""
    import keras
    from PIL import Image
    from sklearn.datasets import load_digits

    work = installed["work"]
    pixels = (load_digits().images[0] * 255 / 16).astype(np.uint8)   # 8×8, 0..16
    Image.fromarray(pixels, mode="L").save(work / "digit.png")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
                              keras.layers.MaxPooling2D(name="pool1"),
                              keras.layers.Flatten(), keras.layers.Dense(10, name="logits")])
    model.save(work / "tiny.keras")
    script = installed["venv"] / "bin" / "dance-tf"
    _run([script, "explain", "digit.png", "--model", "tiny.keras", "--out", "out",
          "--layer", "pool1", "--patches-per-mask", "9"], cwd=work, env=installed["env"])
    out = work / "out"
    assert {p.name for p in out.iterdir()} >= {"panels.png", "dance.npy", "base.npy",
                                              "summary.json"}
    dance = np.load(out / "dance.npy")
    assert dance.shape == (8, 8, 1) and np.all(np.isfinite(dance))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "tiny.keras"
