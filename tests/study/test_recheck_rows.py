"""reproduction/recheck_rows.py: its argument checks and its summary, against hand-worked
tables (the recomputation itself needs the frozen code and the trained nets; it was
checked against the run's own rows: rows written on the same machine came out equal)."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "reproduction" / "recheck_rows.py"


@pytest.fixture(scope="module")
def rr():
    spec = importlib.util.spec_from_file_location("recheck_rows", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _line(block, metric, old, new, same, index=0):
    return json.dumps({"net": "efficientnet_lite0", "block": block, "variant": "none",
                       "index": index, "metric": metric, "old": old, "new": new,
                       "same_machine": same})


def test_summary_by_hand(rr, tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text("\n".join([
        _line("gradient", "sf_k10", 2.0, 2.0, True),
        _line("gradient", "fidelity_continuous", 1.0, 1.0, True),
        _line("gradient", "sf_k10", 2.0, 2.1, False),
        _line("gradient", "sf_k20", 1.0, 0.7, False),
        _line("gradient", "sf_k40", 1.0, 1.0, False),
        _line("gradient", "fidelity_continuous", 3.0, 3.01, False),
    ]) + "\n")
    table = rr.summary([f]).splitlines()
    assert len(table) == 4   # header, rule, two groups
    earlier, same = table[2], table[3]
    # |Δ| of SF: 0.1, 0.3, 0 → median 0.1, mean 0.1333, max 0.3; one of four rows equal
    assert earlier == ("| efficientnet_lite0 | gradient | none | earlier sittings | 4 | 1 | "
                       "0.1000 / 0.1333 / 0.3000 | 0.0100 / 0.0100 / 0.0100 |")
    assert same == ("| efficientnet_lite0 | gradient | none | this machine | 2 | 2 | "
                    "0.0000 / 0.0000 / 0.0000 | 0.0000 / 0.0000 / 0.0000 |")


@pytest.mark.parametrize("text", ["0-3", "5-2", "a", "", "1-", "-3", "1.5"])
def test_images_refused(rr, tmp_path, capsys, text):
    (tmp_path / "preregistered_images.json").write_text("{}")
    with pytest.raises(SystemExit):
        rr.parse(["run", str(tmp_path / "out.jsonl"), "--rows", str(tmp_path),
                  "--block", "gradient", "--images", text])
    assert "--images" in capsys.readouterr().err


def test_images_accepted(rr):
    assert rr.image_range("3") == [2]
    assert rr.image_range("1-24") == list(range(24))


def test_never_writes_over_and_needs_the_run_folder(rr, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n")
    (tmp_path / "preregistered_images.json").write_text("{}")
    with pytest.raises(SystemExit):
        rr.parse(["run", str(out), "--rows", str(tmp_path), "--block", "gradient"])
    assert "out:" in capsys.readouterr().err and out.read_text() == "kept\n"
    with pytest.raises(SystemExit):
        rr.parse(["run", str(tmp_path / "new.jsonl"), "--rows", str(tmp_path / "nowhere"),
                  "--block", "gradient"])
    assert "--rows" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        rr.parse(["summary", str(tmp_path / "missing.jsonl")])
    assert "files" in capsys.readouterr().err


def test_refuses_the_partial_file_of_an_interrupted_run(rr, tmp_path, capsys):
    (tmp_path / "preregistered_images.json").write_text("{}")
    left = tmp_path / ".out.jsonl.partial"
    left.write_text("image 1 only\n")
    with pytest.raises(SystemExit):
        rr.parse(["run", str(tmp_path / "out.jsonl"), "--rows", str(tmp_path),
                  "--block", "gradient"])
    assert "interrupted" in capsys.readouterr().err and left.read_text() == "image 1 only\n"
    assert not (tmp_path / "out.jsonl").exists()
