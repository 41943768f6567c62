"""ImageNet input pipeline (S5): decoding, resizing, channel order and means, the decoy
value range, class tables and bad files."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from dance_tf.data import imagenet as inet
from tests.models.slim_reference import FIXTURES

TENCH = os.path.join(FIXTURES, "n01440764_tench.jpg")
GREY = os.path.join(FIXTURES, "n03417042_garbage_truck.jpg")
RGBA = os.path.join(FIXTURES, "golf_ball_rgba_48.png")


class FakeModel:
    def __init__(self, name, size, preprocessing=None):
        self.name, self.input_shape = name, (None, size, size, 3)
        if preprocessing:
            self.preprocessing = preprocessing


def test_slim_rgb_is_pil_resize_minus_rgb_means():
    x = inet.load_image(TENCH)
    ref = np.asarray(Image.open(TENCH).convert("RGB").resize((224, 224), Image.BILINEAR),
                     np.float32) - np.array([123.68, 116.78, 103.94], np.float32)
    assert x.dtype == np.float32 and x.shape == (224, 224, 3)
    np.testing.assert_allclose(x, ref, atol=1e-4)


def test_caffe_bgr_reverses_channels_and_uses_bgr_means():
    x = inet.load_image(TENCH, size=227, mode="caffe_bgr")
    rgb = np.asarray(Image.open(TENCH).convert("RGB").resize((227, 227), Image.BILINEAR),
                     np.float32)
    ref = rgb[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    np.testing.assert_allclose(x, ref, atol=1e-4)
    np.testing.assert_array_equal(inet.deprocess(x, "caffe_bgr"), rgb.astype(np.uint8))


def test_model_carries_its_mode_and_size():
    caffe = FakeModel("caffe_alexnet", 227)
    x = inet.load_image(TENCH, mode=caffe)
    assert x.shape == (227, 227, 3)
    np.testing.assert_allclose(x, inet.load_image(TENCH, size=227, mode="caffe_bgr"))
    with pytest.raises(ValueError, match="227x227"):
        inet.load_image(TENCH, size=200, mode=caffe)
    vgg = FakeModel("renamed", 224, preprocessing="slim_rgb")
    assert inet.get_mode(vgg).order == "RGB"
    with pytest.raises(ValueError, match="carries no preprocessing"):
        inet.get_mode(FakeModel("mystery", 224))
    with pytest.raises(ValueError, match="unknown preprocessing"):
        inet.get_mode("bgr")


def test_greyscale_rgba_and_crop():
    grey = inet.deprocess(inet.load_image(GREY), "slim_rgb").astype(int)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1],
                                                                        grey[..., 2])
    rgba = inet.load_image(RGBA, size=32)
    assert rgba.shape == (32, 32, 3)
    crop = inet.load_image(TENCH, size=64, resize="center_crop")
    assert crop.shape == (64, 64, 3)


@pytest.mark.parametrize("mode", ["slim_rgb", "caffe_bgr"])
def test_value_range_is_the_pixel_box(mode):
    lo, hi = inet.value_range(mode)
    mean = np.array(inet.MODES[mode].mean, np.float32)
    np.testing.assert_allclose(lo, -mean)
    np.testing.assert_allclose(hi, 255 - mean)
    x = inet.load_image(TENCH, size=227, mode=mode)
    assert np.all(x >= lo - 1e-4) and np.all(x <= hi + 1e-4)
    black = inet.preprocess(np.zeros((1, 1, 3)), mode)[0, 0]
    np.testing.assert_allclose(black, lo)


def test_class_table():
    table = inet.load_class_table()
    assert table.name(0) == "tench" and table.name(1, num_classes=1001) == "tench"
    assert table.name(0, num_classes=1001) == "background"
    assert table.index("n03417042") == 569 and table.index("garbage_truck", 1001) == 570
    shared = "/work/shared/data/imagenet/imagenet_1000_classes.csv"
    if os.path.exists(shared):
        assert inet.load_class_table(shared) == table
    with pytest.raises(KeyError):
        table.index("unicorn")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        inet.load_image(tmp_path / "none.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        inet.load_image(text)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        inet.load_image(empty)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    zero = tmp_path / "zero.png"
    zero.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2,
                     0, 0, 0)) + chunk(b"IEND", b""))
    with pytest.raises(ValueError, match="zero size"):
        inet.load_image(zero)
    cut = tmp_path / "cut.jpg"
    with open(TENCH, "rb") as fh:
        cut.write_bytes(fh.read(600))
    with pytest.raises(ValueError, match="truncated"):
        inet.load_image(cut)
    bad_csv = tmp_path / "classes.csv"
    bad_csv.write_text("index,name\n0,tench\n")
    with pytest.raises(ValueError, match="lacks columns"):
        inet.load_class_table(bad_csv)
