"""The options page, generated at build time from the code (never written by hand).

Source, in order of preference:

1. ``dance_tf.options`` (the one options table), if it imports: its ``markdown()``
   (or ``markdown_table()``) when it has one, else its table (``OPTIONS`` / ``TABLE`` /
   ``ROWS``: a sequence of dataclasses, named tuples or dicts) rendered one row per option.
2. Otherwise the ``Explainer`` signature (every keyword option and its default) with each
   option's text from ``dance_tf.explainer_options.DOC``.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import re

HEADER = ("# Options\n\nEvery option of `dance_tf.Explainer` (and of `dance_tf.explain`), "
          "generated when the site is built{source}. Defaults in brackets are the paper's "
          "(Table S1; §3.3, S1.2).\n\n")
SKIP = {"self", "model"}
#: a DOC entry starts "      name[, name / name]: text"
ENTRY = re.compile(r"^ {6}(?P<keys>[A-Za-z_][\w ,/]*?):\s+(?P<text>.*)$")


def _cell(value) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return re.sub(r"\s+", " ", text).strip()


def _rows_markdown(rows) -> str:
    """A Markdown table of dataclass / named-tuple / dict rows (columns from the first)."""
    rows = list(rows)
    if not rows:
        raise ValueError("options table: no rows")

    def as_dict(row):
        if dataclasses.is_dataclass(row):
            return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
        if hasattr(row, "_asdict"):
            return row._asdict()
        if isinstance(row, dict):
            return row
        raise TypeError(f"options table: cannot read a row of type {type(row).__name__}")

    dicts = [as_dict(r) for r in rows]
    cols = list(dicts[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(d.get(c, "")) for c in cols) + " |" for d in dicts]
    return "\n".join(lines) + "\n"


def from_options_module(module) -> str | None:
    """The page body from ``dance_tf.options``, or None when it offers nothing known."""
    for name in ("markdown", "markdown_table"):
        fn = getattr(module, name, None)
        if callable(fn):
            return str(fn())
    for name in ("OPTIONS", "TABLE", "ROWS"):
        table = getattr(module, name, None)
        if table is not None:
            return _rows_markdown(table.values() if isinstance(table, dict) else table)
    return None


def doc_entries(doc: str) -> dict[str, str]:
    """{option name: its text} from an options text such as ``explainer_options.DOC``;
    an entry naming several options ("patch_size, stride, patches_per_mask: ...") gives
    each of them the same text."""
    entries: list[tuple[list[str], list[str]]] = []
    for line in doc.splitlines():
        m = ENTRY.match(line)
        if m:
            keys = [k for k in re.split(r"[\s,/]+", m.group("keys")) if k]
            entries.append((keys, [m.group("text")]))
        elif entries and line.strip():
            entries[-1][1].append(line.strip())
    out: dict[str, str] = {}
    for keys, text in entries:
        for key in keys:
            out.setdefault(key, " ".join(text))
    return out


def _mention(name: str, entries: dict[str, str]) -> str:
    """The text of the first entry that mentions ``name`` as a word (e.g. ``line_grid`` in
    the ``solver`` entry), or ''."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    return next((t for t in entries.values() if word.search(t)), "")


def from_signature(cls, doc: str) -> str:
    """The page body from ``cls.__init__``'s keyword options and the options text."""
    entries = doc_entries(doc)
    lines = ["| option | default | what it does |", "|---|---|---|"]
    first: dict[str, str] = {}   # an entry's text → the option it was shown with
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name in SKIP or p.kind is not p.KEYWORD_ONLY:
            continue
        default = "—" if p.default is p.empty else f"`{p.default!r}`"
        text = entries.get(p.name) or _mention(p.name, entries) or "(not documented)"
        shown = f"see `{first[text]}`" if text in first else _cell(text)
        first.setdefault(text, p.name)
        lines.append(f"| `{p.name}` | {default} | {shown} |")
    return "\n".join(lines) + ("\n\nOther keywords go to the base method "
                               "(`method_options`).\n")


def markdown() -> str:
    """The whole options page."""
    # a present but broken options module fails the build (find_spec, not except)
    present = importlib.util.find_spec("dance_tf.options") is not None
    module = importlib.import_module("dance_tf.options") if present else None
    body = from_options_module(module) if module is not None else None
    if body is not None:
        return HEADER.format(source=" from `dance_tf.options`") + body
    from dance_tf import explainer_options
    from dance_tf.explainer import Explainer

    source = " from the `Explainer` signature and `dance_tf.explainer_options.DOC`"
    return HEADER.format(source=source) + from_signature(Explainer, explainer_options.DOC)
