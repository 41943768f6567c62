"""Shared by the loader tests: a file written with given content that a loader refuses."""

import pytest


def assert_refused(load, path, content, match, **kwargs):
    """Write ``content`` to ``path`` (bytes as they are, text as UTF-8); ``load(path,
    **kwargs)`` must raise a ValueError whose message matches ``match``."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        load(path, **kwargs)
