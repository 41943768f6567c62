"""What ``evaluate`` writes (issue 24): the report, figures, ``examples/`` and ``maps/`` go
through dance_tf.output_folder: never over the user's files of the same names (not even with
``--force``), never through a link; and a bad ``--option`` is refused before anything is
written. Checked on the disk itself (every byte and link under the folder)."""

from __future__ import annotations

import pytest

from dance_tf.evaluation import cli as ev_cli
from tests.test_output_folder import _tree


@pytest.fixture
def model_path(digits_model_path):
    """The untrained digits CNN file (tests/evaluation/conftest.py, one per session)."""
    return digits_model_path


def _main(model_path, out, *extra):
    return ev_cli.main(["--model", str(model_path), "--count", "1", "--methods", "gradient",
                        "--variants", "none", "--quiet", "--examples", "1",
                        "--out", str(out), *extra])


def _users_folder(out):
    out.mkdir()
    (out / "report.md").write_text("my own report")
    (out / "fidelity_k20.png").write_bytes(b"my figure")
    (out / "examples").mkdir()
    (out / "examples" / "digits-test-0000.png").write_bytes(b"my example")
    (out / "maps").mkdir()
    (out / "maps" / "digits-test-0000__gradient__none.npy").write_bytes(b"my map")


@pytest.mark.parametrize("force", [False, True])
def test_evaluate_never_writes_over_the_users_report_figures_examples_maps(
        model_path, tmp_path, capsys, force):
    out = tmp_path / "out"
    _users_folder(out)
    before = _tree(out)
    code = _main(model_path, out, *(["--force"] if force else []))
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and line.startswith("evaluate.py: error:")
    assert ("report.md" in line and "not written by dance-tf" in line) if force else (
        "holds files dance-tf did not write" in line and "--force" in line)
    assert _tree(out) == before   # nothing written, not even config.json


def test_evaluate_force_writes_beside_foreign_files_and_a_rerun_replaces_its_own(
        model_path, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _main(model_path, out) == 2            # a folder of someone else's files
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert _main(model_path, out, "--force") == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.md").is_file() and (out / "maps").is_dir()
    assert (out / "examples" / "digits-test-0000.png").is_file()
    assert _main(model_path, out, "--force", "--report-only") == 0   # its own: replaced
    capsys.readouterr()


def test_evaluate_report_never_writes_through_a_link(model_path, tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert _main(model_path, out) == 0
    elsewhere.mkdir()
    victim = elsewhere / "victim.md"
    victim.write_text("precious")
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(victim)
    assert _main(model_path, out, "--report-only") == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious" and (out / "report.md").is_symlink()


def test_an_unknown_option_is_one_line_exit_2_and_nothing_written(model_path, tmp_path,
                                                                  capsys):
    out = tmp_path / "out"
    assert _main(model_path, out, "--option", "patchsize=3") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evaluate.py: error:") and "patchsize" in err[0]
    assert not out.exists()
    # the corrected rerun is not "another configuration"
    assert _main(model_path, out, "--option", "patch_size=3") == 0
    assert (out / "config.json").is_file()


def test_a_results_folder_of_an_older_dance_tf_is_adopted_a_users_folder_is_not(tmp_path):
    from dance_tf.errors import OutputError
    from dance_tf.evaluation.results import output_folder

    old, users = tmp_path / "old", tmp_path / "users"
    for folder in (old, users):
        (folder / "maps").mkdir(parents=True)
        (folder / "report.md").write_text("report")
        (folder / "maps" / "a__gradient__none.npy").write_bytes(b"map")
    (old / "config.json").write_text("{}")   # written by dance-tf evaluate, no manifest yet
    assert output_folder(old).check("report.md", "maps/a__gradient__none.npy")
    with pytest.raises(OutputError, match="holds files dance-tf did not write"):
        output_folder(users)
    with pytest.raises(OutputError, match="not written by dance-tf"):
        output_folder(users, force=True).check("report.md")
