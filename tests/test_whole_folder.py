"""dance_tf.whole_folder, through its one caller export.save (issue 24): a folder is
written into a new folder renamed into place; an earlier export is replaced only when it is
entirely dance_tf's; never through a link; a failed export leaves nothing. Checked on the
disk itself."""

from __future__ import annotations

import os
import shutil

import pytest

import dance_tf
from dance_tf import export, output_folder, whole_folder
from tests.conftest import small_cnn
from tests.test_output_folder import _tree


@pytest.fixture(scope="module")
def explainer():
    model = small_cnn(size=6, classes=2, name="tiny_export", seed=1)
    return dance_tf.Explainer(model, layer="pool1", value_range=(0.0, 1.0),
                              patches_per_mask=9)


@pytest.fixture(scope="module")
def exported(explainer, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "exported"
    export.save(explainer, out)
    return out


def test_export_replaces_only_an_export_that_is_entirely_its_own(explainer, exported,
                                                                 tmp_path):
    out = tmp_path / "exported"
    shutil.copytree(exported, out, symlinks=True)
    assert (out / "saved_model.pb").is_file() and (out / output_folder.MANIFEST).is_file()
    assert whole_folder.folder_problem(out) is None
    export.save(explainer, out, overwrite=True)          # its own: replaced
    assert sorted(os.listdir(tmp_path)) == ["exported"]  # no staging or old copy left
    (out / "variables" / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    with pytest.raises(FileExistsError, match="notes.txt"):
        export.save(explainer, out, overwrite=True)
    assert _tree(tmp_path) == before


def test_export_never_writes_through_a_link(explainer, exported, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(FileExistsError, match="symbolic link"):
        export.save(explainer, link)
    assert os.listdir(real) == []
    out = tmp_path / "exported"
    shutil.copytree(exported, out, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "variables").rename(elsewhere / "variables")
    (out / "variables").symlink_to(elsewhere / "variables", target_is_directory=True)
    with pytest.raises(FileExistsError, match="symbolic link"):
        export.save(explainer, out, overwrite=True)
    assert os.listdir(elsewhere) == ["variables"] and (out / "variables").is_symlink()


def test_a_failed_export_leaves_nothing(explainer, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export.tf.saved_model, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        export.save(explainer, tmp_path / "deep" / "exported")
    assert _tree(tmp_path) == {"deep": ("dir",)}
