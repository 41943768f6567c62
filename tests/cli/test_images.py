"""The image given to explain (dance_tf.cli.images): a colour photo or an unreadable file is
refused in one line, a 16-bit PNG is scaled by its own depth, and the default model follows
the picture (a colour photo → the trained ImageNet net, a small grey one → digits)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from dance_tf.cli import images
from tests.conftest import FIXTURES


def test_a_colour_photo_is_refused_by_a_greyscale_model(grey_model, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[..., 0] = 200  # red: clearly colour
    Image.fromarray(rgb).save(photo)
    code = cli.main(["explain", str(photo), "--model", str(grey_model), "--out",
                     str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"dance-tf: error: {photo}: a colour image")
    assert "--model" in err and "12×12 greyscale" in err
    assert not (tmp_path / "o" / "dance.npy").exists()


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n garbage", b"", b"hello"])
def test_an_unreadable_image_is_a_one_line_error(content, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    code = cli.main(["explain", str(bad), "--model", "digits", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"dance-tf: error: {bad}:") and err.count("\n") == 1


def test_a_16_bit_png_is_scaled_by_its_own_depth(grey_model, tmp_path):
    raw = np.random.default_rng(4).integers(0, 65536, size=(12, 12), dtype=np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(raw).save(path)
    model = keras.models.load_model(grey_model, compile=False)
    x, _ = images.read_image(path, model, "keras")
    np.testing.assert_allclose(x[..., 0], raw / 65535.0, atol=1e-6)


def test_default_image_model_follows_the_picture(tmp_path):
    """No --model: a colour photo goes to the trained ImageNet net (when its extra is
    installed, as in the test extra), a small grey picture to the digits CNN."""

    photo = FIXTURES / "imagenet" / "n01440764_tench.jpg"
    assert images.default_image_model(photo) == "efficientnet_lite0"
    grey = tmp_path / "digit.png"
    Image.fromarray((np.arange(32 * 32) % 256).reshape(32, 32).astype(np.uint8)).save(grey)
    assert images.default_image_model(grey) == "digits"
