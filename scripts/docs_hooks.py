"""mkdocs hooks for the documentation site (mkdocs.yml, ``hooks:``).

* Every nav entry ``reference/amiasync.NAME.md`` that has no file gets a
  generated page holding ``::: amiasync.NAME``, so documenting a new module
  is one nav line.
* A link from a docs page to the repository's ``examples/NAME.py`` (outside
  ``docs/``, so mkdocs cannot resolve it) becomes a link to that example's
  section of the Examples page, which includes the file itself.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from mkdocs.structure.files import File, Files

__all__ = ["on_files", "on_page_markdown"]

_REFERENCE = re.compile(r"^reference/(amiasync(?:\.\w+)*)\.md$")
_EXAMPLE_LINK = re.compile(r"\]\((?:\.\./)+examples/(\w+)\.py\)")


def _nav_paths(items: Any) -> list[str]:
    """Every page path named in the nav, nested sections included."""
    found: list[str] = []
    if isinstance(items, str):
        found.append(items)
    elif isinstance(items, list):
        for item in items:
            found.extend(_nav_paths(item))
    elif isinstance(items, dict):
        for value in items.values():
            found.extend(_nav_paths(value))
    return found


def on_files(files: Files, config: Any) -> Files:
    """Add a generated reference page for each nav entry that lacks a file."""
    for path in _nav_paths(config["nav"]):
        match = _REFERENCE.match(path)
        if match and files.get_file_from_path(path) is None:
            module = match.group(1)
            content = f"# `{module}`\n\n::: {module}\n"
            files.append(File.generated(config, path, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point links to examples/NAME.py at the Examples page."""
    depth = page.file.src_uri.count("/")
    target = posixpath.join(*([".."] * depth), "examples.md") if depth else "examples.md"
    return _EXAMPLE_LINK.sub(lambda m: f"]({target}#{m.group(1)})", markdown)
