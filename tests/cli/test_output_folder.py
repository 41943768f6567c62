"""Issue 16, a practitioner's first hour: explain never destroys a file
(dance_tf.cli.output_folder): the input stays byte-identical, a folder holding files
dance-tf did not write is refused without --force, and --force never writes over the input;
the default folder's name from a sentence."""

from __future__ import annotations

import hashlib

from dance_tf import cli
from dance_tf.cli.output_folder import slug
from tests.cli.conftest import FAST, grey_png


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_explain_leaves_its_input_byte_identical_and_writes_a_folder(grey_model, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    img = grey_png(tmp_path / "digit.png")
    before = _sha(img)
    code = cli.main(["explain", "digit.png", "--model", str(grey_model), *FAST])
    err = capsys.readouterr().err
    assert code == 0, err
    assert _sha(img) == before
    out = tmp_path / "outputs" / "explain" / "digit"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".dance-tf.json", "panels.png", "dance.npy", "base.npy", "summary.json"])
    # a rerun into the same folder replaces only what dance-tf wrote there
    assert cli.main(["explain", "digit.png", "--model", str(grey_model), *FAST]) == 0
    assert _sha(img) == before


def test_a_folder_with_foreign_files_is_refused_without_force(grey_model, tmp_path, capsys):
    img = grey_png(tmp_path / "digit.png")
    out = tmp_path / "out"
    assert cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(out),
                     *FAST]) == 0
    foreign = out / "notes.txt"
    foreign.write_text("mine")
    capsys.readouterr()
    code = cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(out),
                     *FAST])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("dance-tf: error:") and "notes.txt" in err and "--force" in err
    assert foreign.read_text() == "mine"
    # an existing file of the same name as an output, not written by dance-tf
    other = tmp_path / "other"
    other.mkdir()
    (other / "panels.png").write_bytes(b"not ours")
    assert cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(other),
                     *FAST]) == 2
    assert (other / "panels.png").read_bytes() == b"not ours"


def test_force_never_writes_over_the_input(grey_model, tmp_path, capsys):
    img = grey_png(tmp_path / "panels.png")  # named like an output, in the output folder
    before = _sha(img)
    code = cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(tmp_path),
                     "--force", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "is the input" in err
    assert _sha(img) == before
    assert not (tmp_path / "dance.npy").exists()  # refused before any work


def test_a_sentence_folder_name_keeps_whole_words():
    assert slug("A gripping, well-acted film!") == "a-gripping-well-acted-film"
    assert slug("one two three", limit=9) == "one-two"
    assert slug("?!") == "input"
