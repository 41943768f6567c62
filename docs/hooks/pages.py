"""MkDocs hook (``hooks:`` in mkdocs.yml): adds the generated pages to the site.

- ``options.md`` from the options table (``options_page``);
- ``api/dance_tf.md`` from ``dance_tf.__all__`` (a name added there appears by itself);
- ``readme.md`` from the top-level README (``readme_page``);
- ``tutorials/<name>.md`` (+ figures) from each ``docs/tutorials/<name>.py``, executed in
  a fresh process (``notebook``); ``DANCE_TF_TUTORIAL_SMALL=1`` runs them at test
  settings, ``DANCE_TF_DOCS_CACHE=DIR`` reuses earlier runs of the same script.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import notebook  # noqa: E402
import options_page  # noqa: E402
import readme_page  # noqa: E402

ROOT = HERE.parent.parent


def api_top_level() -> str:
    """The reference page of ``dance_tf``'s own names, from ``dance_tf.__all__``."""
    import dance_tf

    names = sorted(n for n in dance_tf.__all__ if not n.startswith("__"))
    objs = {n: getattr(dance_tf, n) for n in names}
    errors = [n for n in names if isinstance(objs[n], type) and issubclass(objs[n], ValueError)]
    main = [n for n in names if n not in errors]
    order = sorted(main, key=lambda n: (n != "explain", n != "Explainer", n))

    def block(n):
        obj = objs[n]
        return f"::: {obj.__module__}.{obj.__qualname__}\n    options:\n      heading_level: 3\n"

    parts = ["# dance_tf\n",
             "`import dance_tf` — the names of `dance_tf.__all__` (generated from the "
             "docstrings). The `Explainer`'s options are on the [Options](../options.md) "
             f"page. Version {dance_tf.__version__}.\n",
             "## Explaining\n", *[block(n) for n in order],
             "## Errors\n",
             "Every error dance_tf raises on purpose is a `DanceError` (a `ValueError`).\n",
             *[block(n) for n in sorted(errors, key=lambda n: (n != "DanceError", n))]]
    return "\n".join(parts)


def tutorial_pages(config) -> list[File]:
    files = []
    for script in sorted((Path(config["docs_dir"]) / "tutorials").glob("*.py")):
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
        File.generated(config, "api/dance_tf.md", content=api_top_level()),
        File.generated(config, "readme.md", content=readme_page.markdown(
            (ROOT / "README.md").read_text(encoding="utf-8"))),
        *tutorial_pages(config),
    ]
    for f in generated:
        files.append(f)
    return files
