"""PTB-style tokenizer matching the harvardnlp SST files (§4.3.2, S5).

The ``stsa.*`` sentences are lower-cased and tokenised like the Penn Treebank:
brackets become ``-lrb-``/``-rrb-``, a slash is escaped as ``\\/``, opening and closing
double quotes become two backticks and two apostrophes, ``won't`` is ``wo n't``, clitics
(``'s``, ``'re``, ``'ve``, ``'ll``, ``'d``, ``'m``) and punctuation are separate tokens,
hyphenated words and abbreviations (``mr.``, ``e.t.``) stay whole. On the 17,437 lines of
the four ``stsa.*`` files, re-tokenising the joined tokens gives the file's tokens back
for all but one line (``mulholland dr.`` at the end of a sentence). :func:`tokenize`
applies the same rules to new raw text, so its tokens are found in the same embedding
table.
"""

from __future__ import annotations

import re

_BRACKETS = {
    "(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-",
}
_UNICODE = {
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2026": "...",
    "\u2014": "--", "\u2013": "--", "\u00a0": " ",
}
_CLITIC = re.compile(r"^(.*[a-z0-9])('s|'re|'ve|'ll|'d|'m)$")
_KEEP_LEADING_QUOTE = re.compile(r"^'(\d\ds?|em|til|cause|n'?|s|re|ve|ll|d|m)$")
_KEEP_TRAILING_QUOTE = frozenset(["ol'", "'n'", "goin'", "nothin'", "somethin'"])
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr jr sr st vs no etc inc co ltd mt ft lt gen col sgt prof rev vol pp al bros "
    "sept wash".split()
)


def _is_abbreviation(core: str, is_last: bool) -> bool:
    """``core`` is a word without its final period: keep that period attached?

    Initials (``j.``, ``e.t.``) keep it everywhere, as in the SST files; listed
    abbreviations (``mr.``, ``vs.``) keep it except at the end of the sentence.
    """
    if "." in core or (len(core) == 1 and core.isalpha()):
        return True
    return core in _ABBREVIATIONS and not is_last


def _split_token(token: str, is_last: bool) -> list[str]:
    out: list[str] = []
    if token in ("''", "``", "--", "..."):
        return [token]
    if len(token) > 1 and token.endswith(".") and token != "..." and not token.endswith(".."):
        core = token[:-1]
        if not _is_abbreviation(core, is_last):
            return _split_token(core, False) + ["."]
    if token.startswith("'") and len(token) > 1 and not _KEEP_LEADING_QUOTE.match(token):
        if not _CLITIC.match(token):
            return ["`"] + _split_token(token[1:], is_last)
    if token.endswith("'") and len(token) > 1 and token not in _KEEP_TRAILING_QUOTE:
        return _split_token(token[:-1], False) + ["'"]
    if token.endswith("n't") and len(token) > 3:
        out.extend([token[:-3], "n't"])
        return out
    match = _CLITIC.match(token)
    if match:
        return [match.group(1), match.group(2)]
    return [token]


def tokenize(text: str) -> list[str]:
    """Split raw English text into SST-style tokens.

    Parameters
    ----------
    text : a raw sentence, any case (``"It's not (quite) a writer/director's film."``).

    Returns
    -------
    list of lower-case tokens (``["it", "'s", "not", "-lrb-", "quite", "-rrb-", ...]``);
    empty if the text has no tokens. Text that is already tokenised passes through
    unchanged (``tokenize(" ".join(tokens)) == tokens`` for the SST files' tokens).
    """
    for old, new in _UNICODE.items():
        text = text.replace(old, new)
    text = text.lower()
    text = re.sub(r'(^|(?<=[\s(\[{]))"', " `` ", text)
    text = text.replace('"', " '' ")
    for char, name in _BRACKETS.items():
        text = text.replace(char, f" {name} ")
    text = re.sub(r"\.\.\.+", " ... ", text)
    text = re.sub(r"(?<!-)--+(?!-)", " -- ", text)
    text = re.sub(r"(?<!\d)[,:]|[,:](?!\d)", lambda m: f" {m.group(0)} ", text)
    text = re.sub(r"[!?]+|[;$%#]|(?<![a-z0-9])&|&(?![a-z0-9])", lambda m: f" {m.group(0)} ", text)
    text = re.sub(r"(?<!\\)/", r"\\/", text)
    raw = text.split()
    tokens: list[str] = []
    for index, token in enumerate(raw):
        tokens.extend(_split_token(token, index == len(raw) - 1))
    return [t for t in tokens if t]
