"""The robustness tables of a report (§4.4): an evaluation with attacks writes one row per
attacked input (label kept, inside the budget, sensitivity without and with decoys), the
report's robustness section and the sensitivity figure."""

import json

from tests.evaluation.conftest import run_script


def test_attack_rows_and_report(digits_model_path, tmp_path):
    out = tmp_path / "attacks"
    done = run_script(digits_model_path, out, "--variants", "none", "--attacks",
                      "topk,mass_center", "--attack-iterations", "5")
    assert "Robustness to explanation attacks" in done.stdout
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    attacked = [r for r in rows if r["variant"].startswith("attack:")]
    assert len(attacked) == 6
    for r in attacked:
        assert r["label_after_attack"] == r["target"]
        assert r["linf"] <= 8 / 255 + 1e-6  # the default budget on a [0, 1] range
        assert {"ss_none", "ss_decoys", "center_shift_decoys"} <= set(r)
    assert (out / "sensitivity.png").exists()
