"""Packaged samples (issue 24): a truncated or corrupt packaged archive is a ValueError that
names it and says to reinstall, and no temporary file is left behind."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from dance_tf.data import samples

NAME = "stsa.binary.dev"


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of the packaged samples folder that the test may damage."""
    folder = tmp_path / "package"
    folder.mkdir()
    shutil.copy(samples.HERE / f"{NAME}.gz", folder / f"{NAME}.gz")
    monkeypatch.setattr(samples, "HERE", folder)
    return folder


def test_a_good_archive_decompresses_to_the_recorded_content(package, tmp_path):
    out = tmp_path / "cache"
    path = samples.path(f"package:{NAME}", out)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == samples.FILES[NAME]
    assert sorted(p.name for p in out.iterdir()) == [NAME]


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "missing"])
def test_a_damaged_archive_is_named_and_leaves_nothing(package, tmp_path, damage):
    gz = package / f"{NAME}.gz"
    data = gz.read_bytes()
    if damage == "truncated":
        gz.write_bytes(data[:len(data) // 2])
    elif damage == "corrupt":
        middle = len(data) // 2
        gz.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    else:
        gz.unlink()
    out = tmp_path / "cache"
    with pytest.raises(ValueError) as info:
        samples.path(NAME, out)
    text = str(info.value)
    assert text.startswith(f"{gz}: packaged sample is "), text
    assert "reinstall dance-tf" in text
    assert not list(out.iterdir()), "a temporary or partial file was left behind"
