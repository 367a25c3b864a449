"""A griffe extension for the documentation site: reST markup in docstrings to Markdown.

The code's docstrings are written for both ``help()`` and Sphinx-style
readers: ``:class:`~amiasync.Manager``` roles, ``Example::`` literal blocks.
mkdocstrings renders Markdown, so this extension rewrites each docstring as it
is loaded: a role becomes a cross-reference (``[`Manager`][amiasync.Manager]``,
resolved relative to the object with ``scoped_crossrefs``), a paragraph
ending in ``::`` ends in ``:``, its indented block staying a code block, and
``][`` is escaped so that Asterisk's ``[a][,b]`` syntax is not a link.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

__all__ = ["ReSTRoles"]

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj):`(~?)([^`<>]+)`")
_LITERAL = re.compile(r"::(\n\n)", re.MULTILINE)
# Asterisk's syntax notes ("[name(<event_name>)][,header(<header_name>)]", in the
# catalogue's text from core-en_US.xml) read as Markdown reference links.
_BRACKETS = re.compile(r"\]\[")


def _to_markdown(text: str) -> str:
    def role(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2).strip()
        shown = target.rsplit(".", 1)[-1] if short else target
        return f"[`{shown}`][{target}]"

    text = _BRACKETS.sub(r"]\\[", text)
    return _LITERAL.sub(r":\1", _ROLE.sub(role, text))


class ReSTRoles(Extension):
    """Rewrite reST roles and ``::`` literal markers in every docstring."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        """Convert the docstring of each object as it is loaded."""
        if obj.docstring is not None:
            obj.docstring.value = _to_markdown(obj.docstring.value)
