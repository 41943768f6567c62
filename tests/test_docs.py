"""The documentation site: the tutorials run (small settings), the site builds with
warnings as errors (a broken API reference fails), every internal link of the built site
resolves, and the generated pages' helpers (docs/hooks) do what they say."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks"
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))
sys.path.insert(0, str(HOOKS))

import options_page  # noqa: E402
import readme_page  # noqa: E402
import tutorial_runner as notebook  # noqa: E402

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env.update({notebook.SMALL_ENV: "1", notebook.CACHE_ENV: str(cache),
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT),
                                                          env.get("PYTHONPATH")) if p)})
    return env


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Executed tutorials, shared by the tutorial tests and the site build."""
    return tmp_path_factory.mktemp("tutorial-cache")


# --------------------------------------------------------------------------- helpers
def test_parse_percent_format_hand_worked():
    text = textwrap.dedent("""\
        # %% [markdown]
        # # Title
        #
        # Some *text*.

        # %%
        x = 1

        # %% a titled cell
        print(x)
        # %%

        """)
    cells = notebook.parse(text)
    assert [(c.kind, c.source) for c in cells] == [
        ("markdown", "# Title\n\nSome *text*."), ("code", "x = 1"), ("code", "print(x)")]


def test_cell_shows_last_expression_unless_semicolon(capsys):
    ns: dict = {}
    notebook._exec_cell("a = 2\na * 21", ns, "<t>")
    notebook._exec_cell("a * 2;", ns, "<t>")
    notebook._exec_cell("None", ns, "<t>")
    assert capsys.readouterr().out == "42\n"


def test_failing_cell_is_an_error_naming_the_cell(tmp_path, monkeypatch):
    monkeypatch.delenv(notebook.CACHE_ENV, raising=False)
    script = tmp_path / "broken.py"
    script.write_text("# %%\nprint('fine')\n\n# %%\nraise KeyError('boom')\n")
    with pytest.raises(notebook.TutorialError, match=r"(?s)broken.py: cell 1.*KeyError"):
        notebook.run(script)


def test_render_outputs_and_figures():
    cells = [notebook.Cell("markdown", "# T"),
             notebook.Cell("code", "print(1)", output="1\n", images=["iVBORw0K"])]
    page, images = notebook.render(cells, "t")
    assert "```python\nprint(1)\n```" in page and "```text\n1\n```" in page
    assert "![output of cell 1](t_1_0.png)" in page and list(images) == ["t_1_0.png"]


class _Options:
    def __init__(self, model, *, alpha: int = 1, beta=None, gamma: float = 0.5,
                 delta="x", **extra):
        pass


DOC = """
    Options:
      alpha: the first [1].
      beta / gamma: shared text
        over two lines.
      other: mentions delta inside its text.
"""


def test_options_from_signature_lists_every_keyword():
    page = options_page.from_signature(_Options, DOC)
    rows = {line.split("|")[1].strip(): line for line in page.splitlines()
            if line.startswith("| `")}
    assert set(rows) == {"`alpha`", "`beta`", "`gamma`", "`delta`"}
    assert "the first [1]." in rows["`alpha`"] and "`1`" in rows["`alpha`"]
    assert "shared text over two lines." in rows["`beta`"]
    assert "see `beta`" in rows["`gamma`"]
    assert "mentions delta" in rows["`delta`"]


def test_options_module_preferred_and_rendered():
    @dataclasses.dataclass
    class Row:
        name: str
        default: object
        doc: str

    class Module:
        OPTIONS = (Row("alpha", 1, "first | piped"), Row("beta", None, "second"))

    page = options_page.from_options_module(Module)
    assert page.splitlines()[:2] == ["| name | default | doc |", "|---|---|---|"]
    assert "| alpha | 1 | first \\| piped |" in page
    assert options_page.from_options_module(object()) is None


def test_readme_links_rewritten_for_the_site():
    text = ("See [the docs](docs/index.md#a), [`BENCH.md`](BENCH.md), [web](https://x.y) "
            "and [notes](a/b.md).\n```\n[keep](me)\n```\n")
    out = readme_page.markdown(text)
    assert out.splitlines()[0] == ("See [the docs](index.md#a), `BENCH.md`, [web](https://x.y) "
                                   "and notes (`a/b.md`).")
    assert "[keep](me)" in out


# --------------------------------------------------------------------------- tutorials
@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(script, cache, monkeypatch):
    for key, value in _env(cache).items():
        monkeypatch.setenv(key, value)
    cells = notebook.run(script, root=ROOT)
    code = [c for c in cells if c.kind == "code"]
    assert code and any(c.output.strip() for c in code)
    assert cells[0].kind == "markdown" and cells[0].source.startswith("# ")


# --------------------------------------------------------------------------- the site
@pytest.fixture(scope="module")
def site(cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)], cwd=ROOT,
                          env=_env(cache), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return out


def test_site_builds_strict_with_every_public_name(site):
    import dance_tf
    import dance_tf.evaluation
    import dance_tf.metrics
    import dance_tf.saliency

    def text(page):
        return (site / page).read_text(encoding="utf-8")

    for page, names in [("api/dance_tf.html", dance_tf.__all__),
                        ("api/metrics.html", dance_tf.metrics.__all__),
                        ("api/saliency.html", dance_tf.saliency.__all__),
                        ("api/evaluation.html", dance_tf.evaluation.__all__)]:
        html = text(page)
        missing = [n for n in names if not n.startswith("__") and f'id="{n}"' not in html
                   and f'.{n}"' not in html]
        assert not missing, f"{page} lacks {missing}"
    import inspect

    from dance_tf.explainer import Explainer

    options = text("options.html")
    params = [p for p in inspect.signature(Explainer.__init__).parameters.values()
              if p.kind is p.KEYWORD_ONLY]
    assert params and all(f"<code>{p.name}</code>" in options for p in params)
    for script in TUTORIALS:
        page = text(f"tutorials/{script.stem}.html")
        assert 'class="language-text' in page or "<pre><code>" in page


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.targets += [v for k, v in attrs if k in ("href", "src") and v]


def internal_links(site: Path) -> list[tuple[Path, str, Path]]:
    """(page, link, file it points at) for every href / src of the built site that is not
    external (relative, or relative to the site root)."""
    out = []
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.targets:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue   # external, or an anchor on the same page
            path = unquote(parts.path)   # a root-relative path (404.html) is in the site
            target = (site / path.lstrip("/") if path.startswith("/")
                      else page.parent / path).resolve()
            if target.is_dir():
                target = target / "index.html"
            out.append((page, link, target))
    return out


def test_internal_links_resolve(site):
    links = internal_links(site)
    assert len(links) > 50
    broken = [(str(p.relative_to(site)), link) for p, link, t in links if not t.is_file()]
    assert not broken, broken[:20]


def test_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.html").write_text(
        '<a href="../b.html#x">b</a><img src="img/c.png"><link href="/b.html">'
        '<a href="/sub/d.html">d</a><a href="https://e.org/x">e</a><a href="#top">t</a>')
    (tmp_path / "b.html").write_text("<p>b</p>")
    links = internal_links(tmp_path)
    assert sorted(link for _, link, _ in links) == ["../b.html#x", "/b.html", "/sub/d.html",
                                                    "img/c.png"]
    assert sorted(link for _, link, t in links if not t.is_file()) == ["/sub/d.html",
                                                                       "img/c.png"]


def test_strict_build_fails_on_a_broken_reference(tmp_path):
    """The strict build is what catches a broken reference: a page naming an object that
    does not exist must fail it (same plugin settings as mkdocs.yml, no hooks)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n\n::: dance_tf.errors.NoSuchError\n")
    (tmp_path / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: t
        plugins:
          - mkdocstrings:
              handlers:
                python:
                  paths: [{ROOT}]
        """))
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "NoSuchError" in proc.stderr
