"""dance_tf.output_folder (issue 24, "one way to write files"): an output folder is never written
over a file dance-tf did not write, never through a symbolic link, and a refused or failed
write changes nothing; and the explain command, which writes through it.

Every case is checked on the disk itself (bytes, links, listings), not through the
module's own bookkeeping."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from dance_tf import output_folder as files
from dance_tf.errors import OutputError
from tests.conftest import saved_tiny_cnn


def _tree(root) -> dict:
    """Every entry under ``root``: relative path → ('link', target) / ('dir',) / bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir",)
            else:
                out[rel] = open(p, "rb").read()
    return out


# ----------------------------------------------------------------- the module
def test_a_staging_that_fails_leaves_nothing_not_even_the_folder(tmp_path):
    out = tmp_path / "new" / "deeper"
    folder = files.OutputFolder(out)
    with pytest.raises(RuntimeError), folder.stage() as st:
        st.path("a.txt").write_text("x")
        raise RuntimeError("the run failed")
    assert os.listdir(tmp_path) == []


def test_commit_refuses_every_file_if_one_is_foreign(tmp_path):
    (tmp_path / "b.txt").write_text("user's")
    folder = files.OutputFolder(tmp_path, force=True)
    before = _tree(tmp_path)
    with pytest.raises(OutputError, match="not written by dance-tf"), folder.stage() as st:
        st.path("a.txt").write_text("new a")
        st.path("b.txt").write_text("new b")
        st.commit()
    assert _tree(tmp_path) == before   # a.txt not moved in either, no manifest


def test_a_refused_commit_removes_its_staging_without_a_with_block(tmp_path):
    folder = files.OutputFolder(tmp_path, force=True)
    st = folder.stage()
    st.path("a.txt").write_text("new")
    (tmp_path / "a.txt").write_text("appeared meanwhile")   # after the first check
    with pytest.raises(OutputError, match="not written by dance-tf"):
        st.commit()
    assert os.listdir(tmp_path) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "appeared meanwhile"


def test_manifest_records_digests_and_a_replaced_file_is_refused(tmp_path):
    folder = files.OutputFolder(tmp_path)
    folder.write("sub/a.npy", lambda p: np.save(p, np.arange(3)))
    manifest = json.loads((tmp_path / files.MANIFEST).read_text())
    data = (tmp_path / "sub" / "a.npy").read_bytes()
    assert manifest["written"]["sub/a.npy"] == {
        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    # rewriting our own file is fine
    files.OutputFolder(tmp_path).write("sub/a.npy", lambda p: np.save(p, np.arange(4)))
    np.testing.assert_array_equal(np.load(tmp_path / "sub" / "a.npy"), np.arange(4))
    # the user put another file under that name: never written over
    (tmp_path / "sub" / "a.npy").write_bytes(b"the user's own")
    with pytest.raises(OutputError, match="changed since dance-tf wrote it"):
        files.OutputFolder(tmp_path).write("sub/a.npy", lambda p: np.save(p, np.arange(5)))
    assert (tmp_path / "sub" / "a.npy").read_bytes() == b"the user's own"


@pytest.mark.parametrize("force", [False, True])
def test_a_listed_name_that_is_now_a_link_is_refused(tmp_path, force):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep")
    files.OutputFolder(out).write("a.txt", lambda p: p.write_text("ours"))
    (out / "a.txt").unlink()
    (out / "a.txt").symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        files.OutputFolder(out, force=force).write("a.txt", lambda p: p.write_text("x"))
    assert victim.read_text() == "keep" and (out / "a.txt").is_symlink()
    # a listed sub-folder replaced by a link to elsewhere
    files.OutputFolder(out, force=True).write("maps/m.txt", lambda p: p.write_text("m"))
    os.rename(out / "maps", tmp_path / "moved")
    (out / "maps").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        files.OutputFolder(out, force=True).write("maps/m.txt", lambda p: p.write_text("x"))
    assert sorted(os.listdir(outside)) == ["victim.txt"]


def test_the_folder_itself_a_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        files.OutputFolder(tmp_path / "alias")


# ----------------------------------------------------------------- dance-tf explain
FAST = ["--patches-per-mask", "30", "--layer", "pool1"]


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_grey")


@pytest.fixture
def digit_png(tmp_path):
    path = tmp_path / "digit.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8), "L").save(path)
    return path


def _explain(png, model, out, *extra):
    return cli.main(["explain", str(png), "--model", str(model), "--out", str(out),
                     *extra, *FAST])


def test_explain_force_never_writes_over_a_foreign_file_of_an_output_name(
        grey_model, digit_png, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("the user's notes")
    before = _tree(out)
    assert _explain(digit_png, grey_model, out, "--force") == 2
    assert "summary.json" in capsys.readouterr().err
    assert _tree(out) == before


def test_explain_force_never_writes_through_a_link_named_like_an_output(
        grey_model, digit_png, tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "dance.npy").symlink_to(elsewhere / "target.npy")   # dangling: would be created
    before, outside = _tree(out), _tree(elsewhere)
    assert _explain(digit_png, grey_model, out, "--force") == 2
    assert "symbolic link" in capsys.readouterr().err
    assert _tree(out) == before and _tree(elsewhere) == outside == {}


def test_explain_manifest_listing_a_name_that_is_now_a_link_writes_nothing_outside(
        grey_model, digit_png, tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert _explain(digit_png, grey_model, out) == 0
    elsewhere.mkdir()
    victim = elsewhere / "victim.json"
    victim.write_text("precious")
    (out / "summary.json").unlink()
    (out / "summary.json").symlink_to(victim)
    before = _tree(out)
    assert _explain(digit_png, grey_model, out) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious" and _tree(out) == before


def test_explain_rerun_replaces_its_own_files_and_a_failed_run_changes_nothing(
        grey_model, digit_png, tmp_path, capsys):
    out = tmp_path / "out"
    assert _explain(digit_png, grey_model, out) == 0
    assert _explain(digit_png, grey_model, out, "--target", "1") == 0
    assert json.loads((out / "summary.json").read_text())["target"] == 1
    before = _tree(out)
    assert _explain(digit_png, grey_model, out, "--target", "7") == 2   # 3 classes
    assert _tree(out) == before
    capsys.readouterr()
