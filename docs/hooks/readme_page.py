"""The README as a page of the site: its links into ``docs/`` point at the pages; links to
other files of the checkout (not part of the site) become code text, so that the strict
build has no broken link."""

from __future__ import annotations

import re

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:", "#")


def _rewrite(m: re.Match) -> str:
    text, target = m.group("text"), m.group("target")
    if target.startswith(EXTERNAL):
        return m.group(0)
    if target.startswith("docs/"):
        return f"[{text}]({target[len('docs/'):]})"
    plain = text.strip("`")
    return f"`{target}`" if plain == target else f"{text} (`{target}`)"


def markdown(readme: str) -> str:
    """``readme`` with its links rewritten for the site (fenced code left alone)."""
    out, fenced = [], False
    for line in readme.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append(line if fenced else LINK.sub(_rewrite, line))
    return "\n".join(out) + "\n"
