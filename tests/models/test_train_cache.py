"""Model files (issue 24): a damaged model file — a cached digits CNN or ``--model f.keras``
— is reported as damaged and named, never as "File not found"; the digits cache is written
to a temporary name and renamed, so a kill mid-save leaves nothing under the real name."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from dance_tf.models import digits as digits_model
from tests.conftest import saved_tiny_cnn


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_grey")


def _damaged(good, folder, how: str):
    data = good.read_bytes()
    path = folder / f"{how}.keras"
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "junk":
        path.write_bytes(b"hello, not a model")
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a flipped byte inside the weights member: the zip's CRC no longer matches
        with zipfile.ZipFile(good) as archive:
            info = archive.getinfo("model.weights.h5")
        at = info.header_offset + 30 + len(info.filename) + len(info.extra) \
            + info.compress_size // 2
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    return path


HOWS = ["truncated", "junk", "empty", "crc"]


@pytest.mark.parametrize("how", HOWS)
def test_a_damaged_model_file_is_named_as_damaged(good, tmp_path, how):
    path = _damaged(good, tmp_path, how)
    with pytest.raises(ValueError) as info:
        digits_model.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}: damaged or not a Keras model file"), text
    assert "not found" not in text.lower()


def test_a_damaged_cached_digits_model_says_delete_it(good, tmp_path, monkeypatch):
    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    cached = _damaged(good, tmp_path, "truncated").rename(tmp_path / digits_model.FILE_NAME)
    with pytest.raises(ValueError, match=rf"^{cached}: damaged .*delete it and the digits "
                                         "CNN is trained again"):
        digits_model.load(train_if_missing=False)


def test_cli_model_keras_that_is_damaged_is_one_line_exit_2(good, tmp_path, capsys):
    path = _damaged(good, tmp_path, "truncated")
    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(image)
    code = cli.main(["explain", str(image), "--model", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"dance-tf: error: {path}: damaged or not a Keras model file"), err
    assert "not found" not in err.lower() and err.count("\n") == 1


class _Killed(BaseException):
    """Stands for the process being killed mid-save (not an Exception: nothing catches it)."""


def test_a_kill_while_caching_the_digits_model_leaves_no_damaged_file(good, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    tiny = keras.models.load_model(good, compile=False)
    monkeypatch.setattr(digits_model, "train", lambda **_: (tiny, 1.0))
    real_save = keras.Model.save

    def killed_save(self, filepath, *a, **kw):
        with open(filepath, "wb") as handle:  # half a file, then the kill
            handle.write(good.read_bytes()[:500])
        raise _Killed

    monkeypatch.setattr(keras.Model, "save", killed_save)
    with pytest.raises(_Killed):
        digits_model.load(progress=lambda *_: None)
    cached = tmp_path / digits_model.FILE_NAME
    assert not cached.exists(), "the interrupted save left a damaged model under the real name"
    assert not list(tmp_path.iterdir()), "a temporary file was left behind"
    # the rerun trains again and caches a whole model that loads back with the same weights
    monkeypatch.setattr(keras.Model, "save", real_save)
    digits_model.load(progress=lambda *_: None)
    again = digits_model.load(train_if_missing=False)
    for a, b in zip(again.get_weights(), tiny.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == [digits_model.FILE_NAME]
