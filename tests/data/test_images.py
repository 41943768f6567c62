"""One picture reader for the CLI and the ImageNet pipeline (issue 24): 32-bit integer
images scaled by their own range (never clipped), a picture drawn only in the alpha channel
refused, a decompression bomb a one-line CLI error with exit 2."""

from __future__ import annotations

import struct
import zlib

import keras
import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from dance_tf.cli.images import read_image
from dance_tf.data import imagenet as inet
from dance_tf.data import images
from dance_tf.errors import InputError
from tests.conftest import FIXTURES, saved_tiny_cnn


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory):
    path = saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_grey")
    return path, keras.models.load_model(path, compile=False)


def _tiff32(path, values: np.ndarray, signed: bool) -> None:
    """A one-strip, uncompressed, little-endian 32-bit greyscale TIFF written by hand
    (SampleFormat 2 = signed, 1 = unsigned), independent of PIL's writer."""
    h, w = values.shape
    data = values.astype("<i4" if signed else "<u4").tobytes()
    entries = [(256, 4, w), (257, 4, h), (258, 3, 32), (259, 3, 1), (262, 3, 1),
               (273, 4, 8), (277, 3, 1), (278, 4, h), (279, 4, len(data)),
               (339, 3, 2 if signed else 1)]
    ifd_at = 8 + len(data)
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3
                                             else struct.pack("<I", value))
        for tag, kind, value in entries) + struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", ifd_at) + data + ifd)


# ----------------------------------------------------------------------- 32-bit integers
def test_a_32_bit_tiff_is_scaled_by_its_range_not_clipped(grey_model, tmp_path):
    path_model, model = grey_model
    rng = np.random.default_rng(24)
    raw = rng.integers(0, 1 << 18, (12, 12))              # 18-bit data in a 32-bit file
    path = tmp_path / "i32.tif"
    _tiff32(path, raw, signed=True)
    with Image.open(path) as img:
        assert img.mode == "I"
    x, _ = read_image(path, model, "keras")
    assert np.mean(x >= 1.0) == 0.0                        # was 76 % at 1.0
    np.testing.assert_allclose(x[..., 0], raw / (2.0 ** 31 - 1), rtol=1e-5, atol=1e-9)
    # the full signed range reaches 1.0 exactly at 2**31 - 1
    top = np.array([[0, 2 ** 31 - 1], [2 ** 30, 12345678]])
    _tiff32(tmp_path / "full.tif", top, signed=True)
    with images.open_image(tmp_path / "full.tif") as img:
        np.testing.assert_allclose(images.grey_levels(img, "full.tif"), top / (2.0 ** 31 - 1))
    np.testing.assert_array_equal(inet.read_rgb(tmp_path / "full.tif")[..., 0],
                                  [[0, 255], [128, 1]])


def test_an_unsigned_32_bit_tiff_keeps_values_above_2_to_the_31(tmp_path):
    raw = np.array([[0, 4_000_000_000], [2 ** 32 - 1, 70_000]], np.uint64)
    path = tmp_path / "u32.tif"
    _tiff32(path, raw, signed=False)
    with images.open_image(path) as img:
        assert img.mode == "I"
        np.testing.assert_allclose(images.grey_levels(img, path), raw / (2.0 ** 32 - 1))
    np.testing.assert_array_equal(inet.read_rgb(path)[..., 0], [[0, 237], [255, 0]])  # 237.49, .004


def test_16_bit_data_in_a_32_bit_file_keep_the_16_bit_scale(tmp_path):
    raw = np.array([[0, 65535], [257, 32896]])
    _tiff32(tmp_path / "i16.tif", raw, signed=True)
    with images.open_image(tmp_path / "i16.tif") as img:
        np.testing.assert_allclose(images.grey_levels(img, "x"), raw / 65535.0)


# ----------------------------------------------------------------------- alpha
def _alpha_only(path) -> np.ndarray:
    """A 12×12 cross drawn only in the alpha channel (RGB all 0)."""
    alpha = np.zeros((12, 12), np.uint8)
    alpha[5:7, 2:10] = 255
    alpha[2:10, 5:7] = 200
    rgba = np.zeros((12, 12, 4), np.uint8)
    rgba[..., 3] = alpha
    Image.fromarray(rgba, "RGBA").save(path)
    return alpha


def test_a_picture_only_in_the_alpha_channel_is_refused(grey_model, tmp_path, capsys):
    path_model, model = grey_model
    path = tmp_path / "ink.png"
    _alpha_only(path)
    with pytest.raises(InputError, match=rf"^{path}: the picture is only in its alpha"):
        inet.read_rgb(path)
    code = cli.main(["explain", str(path), "--model", str(path_model), "--out",
                     str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"dance-tf: error: {path}: the picture is only in its alpha")
    assert err.count("\n") == 1 and "flatten it onto a background" in err
    assert not (tmp_path / "o" / "dance.npy").exists()


def test_ordinary_transparency_keeps_the_colour_values(grey_model, tmp_path):
    _, model = grey_model
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (12, 12, 4)).astype(np.uint8)
    rgba[..., 1] = rgba[..., 2] = rgba[..., 0]              # grey colour, varying alpha
    Image.fromarray(rgba, "RGBA").save(tmp_path / "grey_rgba.png")
    x, _ = read_image(tmp_path / "grey_rgba.png", model, "keras")
    np.testing.assert_allclose(x[..., 0], rgba[..., 0] / 255.0, atol=1e-6)
    # constant alpha over a colour photo (the fixture): the colours, alpha dropped
    fixture = FIXTURES / "imagenet" / "golf_ball_rgba_48.png"
    with Image.open(fixture) as img:
        want = np.asarray(img.convert("RGBA"))[..., :3]
    np.testing.assert_array_equal(inet.read_rgb(fixture), want)


# ----------------------------------------------------------------------- decompression bomb
def _bomb_png(path, side: int = 20_000) -> None:
    """A valid PNG header declaring side×side greyscale pixels (4·10⁸ > PIL's 2 × 89.5·10⁶
    limit) with one tiny compressed row: a few hundred bytes."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_a_one_line_error_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bomb.png"
    _bomb_png(path)
    assert path.stat().st_size < 200
    code = cli.main(["explain", str(path), "--model", "digits", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"dance-tf: error: {path}: image too large to decode safely")
    assert err.count("\n") == 1
    with pytest.raises(InputError, match="too large"):
        inet.read_rgb(path)


def test_float_images_read_the_same_in_the_cli_and_the_imagenet_reader(grey_model, tmp_path):
    """One rule for both (the CLI used to refuse every float image): [0, 1] as is,
    [0, 255] divided by 255."""
    _, model = grey_model
    unit = np.random.default_rng(5).random((12, 12)).astype(np.float32)
    Image.fromarray(unit).save(tmp_path / "unit.tif")
    Image.fromarray(unit * 200).save(tmp_path / "wide.tif")
    x, _ = read_image(tmp_path / "unit.tif", model, "keras")
    np.testing.assert_allclose(x[..., 0], unit, atol=1e-6)
    x, _ = read_image(tmp_path / "wide.tif", model, "keras")
    np.testing.assert_allclose(x[..., 0], unit * 200 / 255, atol=1e-5)
    np.testing.assert_array_equal(inet.read_rgb(tmp_path / "unit.tif")[..., 0],
                                  np.rint(unit.astype(np.float64) * 255))


@pytest.mark.parametrize("mode", ["LA", "P"])
def test_alpha_only_greyscale_and_palette_pictures_are_refused(tmp_path, mode):
    alpha = np.zeros((8, 8), np.uint8)
    alpha[2:6, 3] = 255
    path = tmp_path / f"{mode}.png"
    if mode == "LA":
        Image.fromarray(np.stack([np.zeros_like(alpha), alpha], -1), "LA").save(path)
    else:  # palette: index 0 transparent black, index 1 opaque black
        img = Image.fromarray((alpha > 0).astype(np.uint8), "P")
        img.putpalette([0, 0, 0] * 256)
        img.save(path, transparency=0)
    with images.open_image(path) as img:
        with pytest.raises(InputError, match="only in its alpha"):
            images.pixels(img, path)
