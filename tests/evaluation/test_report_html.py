"""The evaluate_model report (report.html, report.md): built from rows.jsonl alone, it
parses, embeds its figures as PNG data URIs, shows only numbers derived from the rows, and
renders in headless Chromium without console errors."""

import base64
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from dance_tf.evaluation.card_examples import ExampleStore
from dance_tf.evaluation.card_rows import CONFIG_FORMAT
from dance_tf.evaluation.report_html import write_report
from dance_tf.evaluation.results import EvaluationError
from dance_tf.evaluation.run_config import config_digest, ensure_config

VARIANTS = ("none", "decoys", "matched")
METRICS = {"deletion_auc": "lower", "insertion_auc": "higher"}


def make_folder(out, n=6, seed=0):
    """A results folder written the way evaluate_model writes it: config.json, rows.jsonl
    (two methods × three variants × two metrics, with deletion / insertion curves) and
    examples.npz."""
    rng = np.random.default_rng(seed)
    cfg = {"format": CONFIG_FORMAT, "model": "test", "labels": "predicted"}
    digest = ensure_config(out, cfg, rows_glob="rows.jsonl")
    assert digest == config_digest(cfg)
    lines = []
    for i in range(n):
        for m in ("gradient", "smoothgrad"):
            for k, v in enumerate(VARIANTS):
                for metric, direction in METRICS.items():
                    value = 0.3 + 0.1 * k + 0.05 * rng.standard_normal()
                    curve = list(np.linspace(1, 0, 5) ** (1 + k + rng.random()))
                    lines.append({"index": i, "input": f"d{i}", "method": m, "variant": v,
                                  "metric": metric, "value": float(value),
                                  "direction": direction, "target": 1, "label": None,
                                  "n_decoys": 16, "map_seconds": 0.1, "config": digest,
                                  "curve": curve})
    (out / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    store = ExampleStore(out)
    for m in ("gradient", "smoothgrad"):
        for v in VARIANTS:
            store.add(0, m, v, rng.random((8, 8, 1)), rng.random((8, 8, 1)))
    store.save()
    return lines


class Page(HTMLParser):
    """The visible text (outside <script>/<style>) and the <img> sources of a page."""

    def __init__(self):
        super().__init__()
        self.text, self.images, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def g4(x):
    return f"{x:.4g}"


def derived_numbers(rows):
    """Every number the report may show, computed here from the rows: per metric ×
    method × variant the count and mean; per comparison decoys − variant the mean, the
    95 % interval, the two-sided p (scipy) and Holm's p (by hand); the counts of inputs,
    rows and comparisons; the input indices of the panels; 95 % and α = 0.05."""
    vals = {}
    for r in rows:
        vals.setdefault((r["metric"], r["method"], r["variant"]), {})[r["index"]] = r["value"]
    shown = {"95", "0.05", str(len({r["index"] for r in rows})), str(len(rows))}
    raw = []
    for (metric, m, v), per in vals.items():
        shown |= {str(len(per)), g4(np.mean(list(per.values())))}
        if v != "decoys":
            ours = vals[(metric, m, "decoys")]
            ids = sorted(per)
            d = np.array([ours[i] - per[i] for i in ids])
            t = stats.ttest_rel([ours[i] for i in ids], [per[i] for i in ids])
            ci = t.confidence_interval(0.95)
            shown |= {g4(d.mean()), g4(ci.low), g4(ci.high), g4(t.pvalue)}
            raw.append(t.pvalue)
    order = np.argsort(raw)
    running = 0.0
    for rank, j in enumerate(order):
        running = max(running, min(1.0, (len(raw) - rank) * raw[j]))
        shown.add(g4(running))
    shown.add(str(len(raw)))
    return shown | {"0"}   # "input 0", the example panel


NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def test_report_parses_embeds_pngs_and_shows_only_numbers_of_the_rows(tmp_path):
    rows = make_folder(tmp_path)
    path = write_report(tmp_path, log=lambda *_: None)
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    # every figure is embedded, decodes as a PNG: 2 box plots, 2 curve plots, 1 panel
    assert len(page.images) == 5
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()
        assert img.format == "PNG" and min(img.size) > 50
    text = " ".join(page.text)
    for metric, direction in METRICS.items():
        assert f"{metric} ({direction} is better)" in text
    found = {t.replace("−", "-") for t in NUMBER.findall(text)}
    allowed = derived_numbers(rows)
    assert found <= allowed, f"numbers not derived from the rows: {found - allowed}"
    # and the tables are complete: every mean and Holm p of the rows is shown
    assert len(allowed - found) <= 2, allowed - found   # a count may coincide, e.g. "6"
    md = (tmp_path / "report.md").read_text()
    assert {t for t in NUMBER.findall(md.split("\n", 1)[1])} <= allowed


def test_report_is_rebuilt_from_the_rows_file(tmp_path):
    rows = make_folder(tmp_path)
    write_report(tmp_path, log=lambda *_: None)
    rows[0]["value"] = 123.5   # an edited row of the file changes the table
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_report(tmp_path, log=lambda *_: None)
    sel = [r["value"] for r in rows if (r["metric"], r["method"], r["variant"])
           == (rows[0]["metric"], rows[0]["method"], rows[0]["variant"])]
    assert g4(np.mean(sel)) in (tmp_path / "report.html").read_text()


def test_a_report_it_did_not_write_is_not_overwritten(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "report.md").write_text("# my own notes\n")
    with pytest.raises(EvaluationError, match="not written by evaluate_model"):
        write_report(tmp_path, log=lambda *_: None)
    assert (tmp_path / "report.md").read_text() == "# my own notes\n"


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(apt-get install -y chromium; .ci/run installs it)")
def test_report_renders_in_headless_chromium(tmp_path):
    make_folder(tmp_path / "card")
    page = write_report(tmp_path / "card", log=lambda *_: None)
    shot = tmp_path / "shot.png"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}"]
    url = page.resolve().as_uri()
    proc = subprocess.run([*base, f"--screenshot={shot}", "--window-size=1200,2600", url],
                          capture_output=True, text=True, timeout=120)
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    console = [line for line in (proc.stderr + dom.stderr).splitlines()
               if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    # the page's own check ran after load: every <img> complete with a natural width
    assert 'data-images="decoded"' in dom.stdout, dom.stdout[-500:]
    img = np.asarray(Image.open(shot).convert("L"), np.float32)
    assert img.shape == (2600, 1200)
    assert img.std() > 10 and (img < 128).mean() > 0.01   # drawn, not a blank page
