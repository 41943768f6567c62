"""MkDocs hook (``hooks:`` in mkdocs.yml): adds the generated pages to the site.

- ``options.md`` from the options table (``options_page``);
- ``api/dance_tf.md``, ``api/saliency.md``, ``api/metrics.md`` from each module's
  ``__all__`` (a name added there appears by itself);
- ``readme.md`` from the top-level README (``readme_page``);
- ``tutorials/<name>.md`` (+ figures) from each ``docs/tutorials/<name>.py``, executed in
  a fresh process (``tutorial_runner``); ``DANCE_TF_TUTORIAL_SMALL=1`` runs them at test
  settings, ``DANCE_TF_DOCS_CACHE=DIR`` reuses earlier runs of the same script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mkdocs.structure.files import File

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import options_page  # noqa: E402
import readme_page  # noqa: E402
import tutorial_runner as notebook  # noqa: E402

ROOT = HERE.parent.parent
#: ``DANCE_TF_DOCS_SKIP_TUTORIALS=1``: tutorial pages without running them (quick builds)
SKIP_ENV = "DANCE_TF_DOCS_SKIP_TUTORIALS"


#: generated reference pages: file → (module, intro); every name of the module's
#: ``__all__`` gets an entry, so a name added there appears by itself
API_PAGES = {
    "api/dance_tf.md": ("dance_tf", "`import dance_tf` — the names of `dance_tf.__all__`. "
                        "The `Explainer`'s options are on the [Options](../options.md) page."),
    "api/saliency.md": ("dance_tf.saliency", "The base methods E(x; F^c) that DANCE wraps "
                        "with decoys (§2, §4.1, S9)."),
    "api/metrics.md": ("dance_tf.metrics", "Fidelity, sensitivity, attack, sanity and "
                       "localisation metrics, and the paired statistics the report uses."),
    "api/evaluation.md": ("dance_tf.evaluation", "The batch evaluation: a frozen "
                          "configuration, a task, the runner that streams rows."),
}
#: modules documented whole after a page's names
API_EXTRA = {"api/evaluation.md": ("dance_tf.evaluation.report",)}


def _target(module: str, name: str, obj) -> str:
    """Where mkdocstrings finds ``module.name``: the defining module for classes and
    functions (a function named like its submodule, e.g. ``metrics.fidelity``, would
    otherwise resolve to the submodule), else the name as exported."""
    home, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(home, str) and isinstance(qual, str) and home.startswith("dance_tf"):
        return f"{home}.{qual}"
    return f"{module}.{name}"


def api_page(module: str, intro: str, extra: tuple[str, ...] = ()) -> str:
    """A reference page of every name in ``module.__all__`` (errors, the ``ValueError``
    subclasses, grouped last); generated from the docstrings by mkdocstrings."""
    import importlib

    mod = importlib.import_module(module)
    names = [n for n in mod.__all__ if not n.startswith("__")]
    objs = {n: getattr(mod, n) for n in names}
    errors = [n for n in names if isinstance(objs[n], type) and issubclass(objs[n], ValueError)]
    main = [n for n in names if n not in errors]

    def block(n):
        return f"::: {_target(module, n, objs[n])}\n    options:\n      heading_level: 3\n"

    version = getattr(mod, "__version__", None)
    parts = [f"# {module}\n", intro + (f" Version {version}." if version else "") +
             " Generated from the docstrings.\n",
             f"::: {module}\n    options:\n      members: false\n      show_root_heading: false\n",
             *[block(n) for n in main]]
    if errors:
        note = ("Every error dance_tf raises on purpose is a `DanceError` (a `ValueError`)."
                if module == "dance_tf" else "The errors of this module (`ValueError`s).")
        parts += ["## Errors\n", note + "\n",
                  *[block(n) for n in sorted(errors, key=lambda n: (n != "DanceError", n))]]
    parts += [f"::: {m}\n    options:\n      heading_level: 2\n" for m in extra]
    return "\n".join(parts)


def tutorial_pages(config) -> list[File]:
    files = []
    for script in sorted((Path(config["docs_dir"]) / "tutorials").glob("*.py")):
        if os.environ.get(SKIP_ENV) == "1":   # a quick look at the rest of the site
            cells = [notebook.Cell("markdown", f"# {script.stem}\n\n(not executed)")]
        else:
            cells = notebook.run(script, root=ROOT)
        body, images = notebook.render(cells, script.stem)
        note = (f"*Executed when this site was built. The script: [{script.name}]"
                f"({script.name}) (jupytext percent format: run it with `python`, or open "
                "it as a notebook with `jupytext --to notebook`).*\n\n")
        title, _, rest = body.partition("\n")
        files.append(File.generated(config, f"tutorials/{script.stem}.md",
                                    content=f"{title}\n\n{note}{rest}"))
        files += [File.generated(config, f"tutorials/{name}", content=data)
                  for name, data in images.items()]
    return files


def on_files(files, config):
    generated = [
        File.generated(config, "options.md", content=options_page.markdown()),
        *[File.generated(config, page, content=api_page(module, intro, API_EXTRA.get(page, ())))
          for page, (module, intro) in API_PAGES.items()],
        File.generated(config, "readme.md", content=readme_page.markdown(
            (ROOT / "README.md").read_text(encoding="utf-8"))),
        *tutorial_pages(config),
    ]
    for f in generated:
        files.append(f)
    return files
