"""dance_tf.single_file (issue 24): one file is written whole, never through a symbolic
link, and a file about to be read must be a regular file. Checked on the disk itself."""

from __future__ import annotations

import os

import pytest

from dance_tf import single_file
from dance_tf.errors import OutputError


def test_write_bytes_replaces_whole_and_refuses_links(tmp_path):
    target = tmp_path / "a.txt"
    single_file.write_text(target, "one")
    single_file.write_text(target, "two")
    assert target.read_text() == "two" and os.listdir(tmp_path) == ["a.txt"]
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        single_file.write_text(link, "x")
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        single_file.write_text(tmp_path / "via" / "b.txt", "x")
    assert outside.read_text() == "keep" and not (tmp_path / "real" / "b.txt").exists()


def test_special_files_are_refused_before_a_read(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        single_file.regular_or_absent(fifo, "report")
    with pytest.raises(OutputError, match="not a regular file"):
        single_file.regular_or_absent("/dev/zero", "report")
    assert single_file.regular_or_absent(tmp_path / "absent") is False
