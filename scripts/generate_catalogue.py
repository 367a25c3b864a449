#!/usr/bin/env python3
"""Generate amiasync's typed action and event catalogue from Asterisk's XML docs.

Asterisk ships machine-readable documentation of every manager action and
event (Debian: ``/usr/share/asterisk/documentation/core-en_US.xml``). This
script turns it into ``amiasync/actions.py``, ``amiasync/_events.py`` (the event
classes) and ``amiasync/events.py`` (their lazy public face) in two steps, so
that the Asterisk installation is needed only to refresh the spec::

    python scripts/generate_catalogue.py extract PATH/TO/core-en_US.xml
    python scripts/generate_catalogue.py render
    python scripts/generate_catalogue.py check

``extract`` writes ``scripts/catalogue.json``. Its layout: ``asterisk`` (the
release), ``source`` (the XML file name), ``elements`` (how many ``<manager>``
and ``<managerEvent>`` elements the XML has), ``snapshots`` (the headers of
each ``*_snapshot`` template, without prefix), then ``actions`` (``name``,
``modules``, ``since``, ``synopsis``, ``parameters``: a list of ``{name,
required}`` in documented order, with ``text``, ``default`` and ``enum`` where
the XML gives them) and ``events`` (``name``, ``modules``, ``since``,
``synopsis``, ``headers``: ``{name}`` with ``text`` and ``enum`` where given,
or ``{snapshot, prefix}`` for a snapshot block), sorted by name, one entry per
line. The prose is the XML's ``<para>`` text with its whitespace collapsed.
``render`` writes the modules from that file, and ``check`` exits with status 1
when the committed modules differ from what ``render`` would write. The script
uses the standard library only and runs on Python 3.9+.

How the XML is read (Asterisk 22.10.1; see also the notes in ``extract``):

* ``<manager>`` elements are actions and ``<managerEvent>`` elements events,
  wherever they appear: ten events are documented inside an action's
  ``<responses>``. A name documented more than once (the voicemail actions and
  events exist once per ``app_voicemail`` flavour, ``VarSet`` in three modules)
  becomes one entry: modules and versions are merged, parameters are taken in
  order from each definition, sorted by module, the first spelling winning.
* The installed file still holds its ``<xi:include>`` elements. Those directly
  in a ``<syntax>`` or a ``<parameter>`` are resolved here with a small XPath
  subset (the XML names only same-document XPointers such as
  ``/docs/managerEvent[@name='X']/managerEventInstance/syntax/parameter``),
  as libxml2's XInclude processing would.
* ``<channel_snapshot prefix="Dest"/>`` and ``<bridge_snapshot/>`` are expanded
  by Asterisk through ``appdocsxml.xslt``, installed next to the XML: the
  header names and their prose are read from that stylesheet's templates
  (``concat(@prefix, 'Channel')``), so the list follows the Asterisk release.
  The spec keeps the block as one entry; the renderer makes one mixin class
  per block and prefix (``DestChannelSnapshot``) that the events share.
* Every action documents ``ActionID`` (usually by including Login's); it is
  left out, as :class:`amiasync.message.Action` handles it.

Naming rules used by ``render`` (``python_name`` is the one place the rule lives):

* Class names are the AMI names when they are Python identifiers; other names
  have each run of other characters replaced by ``_`` (``AOC-D`` -> ``AOC_D``,
  with ``# noqa: N801``).
* Parameter and accessor names split the header's CamelCase into snake_case:
  a ``_`` goes between a lowercase letter or digit and an uppercase letter, and
  before the last capital of a run of capitals followed by a lowercase letter
  (``CallerIDNum`` -> ``caller_id_num``, ``EarlyMedia`` -> ``early_media``);
  each run of other characters becomes ``_`` (``Cause-txt`` -> ``cause_txt``,
  ``UnitAmount(0)`` -> ``unit_amount_0``). A Python keyword gets a trailing
  ``_`` (``Async`` -> ``async_``), and a name that would start with a digit gets
  ``h_`` in front (``100rel`` -> ``h_100rel``).
* An event accessor that would hide an attribute of ``Event`` (see
  ``RESERVED_EVENT_ATTRIBUTES``) gets ``_header`` appended (``Module`` ->
  ``module_header``), an action parameter that would take a name the action
  base uses (``RESERVED_ACTION_PARAMETERS``) a trailing ``_``; the event's
  ``ActionID`` header has no accessor, since ``Message.action_id`` reads it.
  Two headers of one class mapping to the same name stop the render.
* Action signatures: required parameters are positional, in documented order;
  the others keyword-only with default ``None`` (left out of the message).
  Parameters whose XML lists plain values are typed ``Literal[...]``.
  ``OVERRIDES`` below adjusts a few actions for call shapes that predate the
  catalogue.
"""

from __future__ import annotations

import argparse
import difflib
import json
import keyword
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "scripts" / "catalogue.json"
ACTIONS_PY = ROOT / "amiasync" / "actions.py"
EVENTS_PY = ROOT / "amiasync" / "events.py"
EVENT_CLASSES_PY = ROOT / "amiasync" / "_events.py"

#: The Asterisk release the committed spec was extracted from (``extract --asterisk``).
DEFAULT_ASTERISK = "22.10.1"

#: Where each class's docstring links to (Asterisk's documentation site).
DOCS_URL = (
    "https://docs.asterisk.org/Asterisk_{major}_Documentation/API_Documentation/{kind}/{name}/"
)

XI_INCLUDE = "{http://www.w3.org/2001/XInclude}include"
XSL = "{http://www.w3.org/1999/XSL/Transform}"

#: ruff's line length for the project (pyproject.toml); the renderer wraps to it.
LINE_LENGTH = 100

#: Hand-tuning of generated actions, keyed by AMI action name. Keys:
#:
#: ``positional``: optional headers that stay positional-or-keyword, in this
#:     order after the required ones (``Login(username, secret)``).
#: ``defaults``: default values (Python literals) instead of ``None``; a
#:     required header with a default becomes an optional positional argument,
#:     still refused when ``None`` is passed.
#: ``order``: the order the fields are declared in, which is the order headers
#:     go on the wire, when it must differ from the documented one (Login's
#:     matches the recorded sessions in tests/fixtures).
#: ``required_args``: optional headers whose argument has no default (Login's secret).
#: ``annotations``: types instead of ``HeaderValue``.
#: ``texts``: documentation where the XML has none.
#: ``base``: the base class, when the action needs more than its headers.
#: ``extra``: fields that are no header, consumed by the base (``challenge``),
#:     as ``(python name, annotation, docstring text)``, after the positional ones.
OVERRIDES: dict[str, dict[str, Any]] = {
    "Challenge": {"defaults": {"AuthType": "MD5"}},
    "Login": {
        "positional": ["Secret"],
        "required_args": ["Secret"],
        "order": ["AuthType", "Username", "Secret", "Key", "Events"],
        "base": "LoginAction",
        "extra": [
            (
                "challenge",
                "str | None",
                "The value of a Challenge response: the Key is computed from it and the secret "
                "(``md5hex(challenge + secret)``), and the secret itself is not sent.",
            )
        ],
        "annotations": {"Username": "str", "Secret": "str", "Events": "bool | str | list[str]"},
        "texts": {
            "Events": "The events this session receives: True (``on``), False (``off``), a list "
            'of classes (``["call", "system"]``) or the header\'s text.'
        },
    },
    "Filter": {"positional": ["Filter"], "defaults": {"Operation": "Add"}},
    "Status": {"positional": ["Channel"]},
}

#: Names an event accessor must not take: attributes of ``Event`` and ``Message``.
RESERVED_EVENT_ATTRIBUTES = frozenset(
    {
        "action_id",
        "encode",
        "event_name",
        "from_headers",
        "get",
        "get_all",
        "headers",
        "items",
        "keys",
        "module",
        "name",
        "raw",
        "since",
        "values",
    }
)

#: Names an action parameter must not take (they get a trailing ``_``).
RESERVED_ACTION_PARAMETERS = frozenset(
    {
        "self",
        "action_id",
        "action_name",
        "extra_headers",
        "get",
        "encode",
        "headers",
        "module",
        "name",
        "parameters",
        "redacted",
        "required",
        "since",
    }
)

#: Module-level names of the generated files, which no class may take.
RESERVED_ACTION_CLASSES = frozenset(
    {"DocumentedAction", "HeaderValue", "Literal", "LoginAction", "param"}
)
RESERVED_EVENT_CLASSES = frozenset(
    {"DocumentedEvent", "EVENT_CLASSES", "Event", "LazyEventClasses", "header"}
)


# -- extract: XML -> JSON ------------------------------------------------------


def _split_path(path: str) -> list[str]:
    """Split an XPath on ``/``, leaving slashes inside predicates alone."""
    steps, depth, quote, current = [], 0, "", ""
    for char in path:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            steps.append(current)
            current = ""
            continue
        current += char
    steps.append(current)
    return steps


_STEP = re.compile(r"^([\w.-]+|node\(\)|text\(\))((?:\[[^\]]*\])*)$")
_PREDICATES = re.compile(r"\[([^\]]*)\]")
_EQUALS = re.compile(r"^@(\w+)\s*=\s*'([^']*)'$")
_CONTAINS = re.compile(r"^contains\(\s*@(\w+)\s*,\s*'([^']*)'\s*\)$")


def _matches(element: ET.Element, predicate: str) -> bool:
    equals = _EQUALS.match(predicate)
    if equals:
        return element.get(equals.group(1)) == equals.group(2)
    contains = _CONTAINS.match(predicate)
    if contains:
        return contains.group(2) in (element.get(contains.group(1)) or "")
    raise ValueError(f"unsupported XPath predicate [{predicate}]")


def resolve_xpointer(root: ET.Element, xpointer: str) -> list[ET.Element]:
    """Return the elements an ``xpointer(/docs/...)`` expression selects, in order.

    Supports the subset Asterisk's documentation uses in ``<syntax>``: child
    steps by tag name, ``[@attr='value']``, ``[contains(@attr, 'text')]`` and
    positions (``[2]``). ``node()`` and ``text()`` steps select no element.
    The path is absolute whether or not it starts with ``/`` (one include in
    22.10.1 reads ``xpointer(docs/managerEvent...)``).
    """
    match = re.fullmatch(r"\s*xpointer\((.*)\)\s*", xpointer)
    if not match:
        raise ValueError(f"unsupported xpointer {xpointer!r}")
    steps = _split_path(match.group(1).strip().lstrip("/"))
    # The document node has one child, the root element.
    context: list[ET.Element] = []
    for index, step in enumerate(steps):
        parsed = _STEP.match(step)
        if not parsed:
            raise ValueError(f"unsupported XPath step {step!r} in {xpointer!r}")
        tag, predicates = parsed.group(1), _PREDICATES.findall(parsed.group(2))
        if tag in ("node()", "text()"):
            return []
        selected: list[ET.Element] = []
        for parent in [None] if index == 0 else context:
            children = [root] if parent is None else list(parent)
            found = [child for child in children if child.tag == tag]
            for predicate in predicates:
                if predicate.strip().isdigit():
                    position = int(predicate)
                    found = found[position - 1 : position]
                else:
                    found = [child for child in found if _matches(child, predicate)]
            selected.extend(found)
        context = selected
    return context


def prose(element: ET.Element | None) -> str:
    """Return the text of an element's direct ``<para>`` children, whitespace collapsed.

    Inline markup (``<literal>``, ``<replaceable>``) keeps its text; nested
    lists, notes and warnings are left out, as are ``xsl:value-of`` elements of
    the stylesheet, replaced by the header they name (without its prefix).
    """
    if element is None:
        return ""
    parts = []
    for para in element.findall("para"):
        pieces = []
        for node in para.iter():
            if node.tag == f"{XSL}value-of":
                literal = re.search(r"'([^']+)'", node.get("select", ""))
                pieces.append(literal.group(1) if literal else "")
            elif node is not para and node.text:
                pieces.append(node.text)
            if node is para and node.text:
                pieces.append(node.text)
            if node is not para and node.tail:
                pieces.append(node.tail)
        parts.append(" ".join("".join(pieces).split()))
    return " ".join(part for part in parts if part)


def _enum(root: ET.Element, parameter: ET.Element) -> list[str]:
    """Return the values a parameter's ``<enumlist>`` names (directly or by include)."""
    lists = parameter.findall("enumlist")
    for include in parameter.findall(XI_INCLUDE):
        lists += [
            t for t in resolve_xpointer(root, include.get("xpointer", "")) if t.tag == "enumlist"
        ]
    return [e.get("name", "").strip() for found in lists for e in found.findall("enum")]


def describe(root: ET.Element, parameter: ET.Element, required: bool | None) -> dict[str, Any]:
    """Return a parameter's spec entry: its name, flags, prose and enum values."""
    entry: dict[str, Any] = {"name": parameter.get("name", "").strip()}
    if required is not None:
        entry["required"] = required
    if parameter.get("default"):
        entry["default"] = parameter.get("default")
    text = prose(parameter)
    if text:
        entry["text"] = text
    values = _enum(root, parameter)
    if values:
        entry["enum"] = values
    return entry


def read_snapshot_templates(xslt: Path) -> dict[str, list[dict[str, Any]]]:
    """Read the headers each ``*_snapshot`` template of the stylesheet emits.

    Each template creates ``<parameter>`` elements whose name is
    ``concat(@prefix, 'Suffix')``; the result maps the template (``channel_snapshot``)
    to its headers in order, each ``{name, text, enum}`` as :func:`describe` gives
    (the name without prefix).
    """
    templates: dict[str, list[dict[str, Any]]] = {}
    for template in ET.parse(xslt).getroot().iter(f"{XSL}template"):
        match = template.get("match", "")
        if not match.endswith("_snapshot"):
            continue
        headers = templates[match] = []
        for element in template.iter(f"{XSL}element"):
            if element.get("name") != "parameter":
                continue
            for attribute in element.findall(f"{XSL}attribute"):
                if attribute.get("name") != "name":
                    continue
                value = attribute.find(f"{XSL}value-of")
                select = "" if value is None else value.get("select", "")
                literal = re.fullmatch(r"concat\(\s*@prefix\s*,\s*'([^']+)'\s*\)", select)
                if not literal:
                    raise ValueError(f"unsupported name expression {select!r} in {match}")
                parameter = ET.Element("parameter", name=literal.group(1))
                parameter.extend(child for child in element if child.tag != f"{XSL}attribute")
                headers.append(describe(ET.Element("docs"), parameter, None))
    if not templates:
        raise ValueError(f"no *_snapshot templates in {xslt}")
    return templates


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "1")


def _versions(element: ET.Element) -> list[str]:
    since = element.find("since")
    if since is None:
        return []
    return [v.text.strip() for v in since.findall("version") if v.text and v.text.strip()]


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def syntax_parameters(
    root: ET.Element, syntax: ET.Element | None, snapshots: dict[str, Any], flags: bool = True
) -> list[dict[str, Any]]:
    """Return the spec entries of the parameters a ``<syntax>`` documents, in order.

    Includes are resolved against the document as written: a pointer to
    another element's ``syntax/parameter`` brings its ``<parameter>`` elements,
    not its snapshots or includes, as XInclude (run before the stylesheet)
    does. Where 22.10.1 chains includes (MeetmeTalking, MeetmeMute) the event
    also includes the inner target directly, so nothing is lost. A snapshot
    block becomes ``{snapshot, prefix}``. ``flags`` keeps the ``required`` flags
    (actions); events have none.
    """
    found: list[dict[str, Any]] = []
    if syntax is None:
        return found
    for child in syntax:
        if child.tag == "parameter":
            found.append(describe(root, child, _flag(child.get("required")) if flags else None))
        elif child.tag == XI_INCLUDE:
            if child.get("href"):
                raise ValueError(f"include of another file: {child.get('href')}")
            for target in resolve_xpointer(root, child.get("xpointer", "")):
                if target.tag == "parameter":
                    required = _flag(target.get("required")) if flags else None
                    found.append(describe(root, target, required))
        elif child.tag in snapshots:
            found.append({"snapshot": child.tag, "prefix": child.get("prefix", "")})
        else:
            raise ValueError(f"unexpected <{child.tag}> in <syntax>")
    return [entry for entry in found if entry.get("name", "-")]


def _sort_key(name: str) -> tuple[str, str]:
    # Case-insensitive first (AbsoluteTimeout before AGI), then exact, for stability.
    return name.lower(), name


def _entry_key(item: dict[str, Any]) -> str:
    if "snapshot" in item:
        return f"{item['prefix']}<{item['snapshot']}>".lower()
    return str(item["name"]).lower()


def _merge(definitions: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Merge the definitions of one name: union of modules, versions and parameters."""
    definitions.sort(key=lambda d: (d["modules"], d["index"]))
    merged: dict[str, Any] = {
        "name": definitions[0]["name"],
        "modules": sorted({m for d in definitions for m in d["modules"]}),
        "since": sorted({v for d in definitions for v in d["since"]}, key=_version_key),
        "synopsis": next((d["synopsis"] for d in definitions if d["synopsis"]), ""),
    }
    seen: dict[str, Any] = {}
    for definition in definitions:
        for item in definition[key]:
            # AMI header names are case-insensitive: the first spelling wins.
            seen.setdefault(_entry_key(item), item)
    merged[key] = list(seen.values())
    return merged


def _synopsis(element: ET.Element) -> str:
    synopsis = element.find("synopsis")
    return " ".join("".join(synopsis.itertext()).split()) if synopsis is not None else ""


def extract(xml_path: Path, xslt_path: Path | None, asterisk: str) -> dict[str, Any]:
    """Read the documentation XML and return the catalogue spec (see the module doc)."""
    root = ET.parse(xml_path).getroot()
    xslt = xslt_path or xml_path.with_name("appdocsxml.xslt")
    if not xslt.is_file():
        raise SystemExit(f"{xslt} not found: it defines the snapshot headers; pass --xslt")
    snapshots = read_snapshot_templates(xslt)

    actions: dict[str, list[dict[str, Any]]] = {}
    manager_elements = list(root.iter("manager"))
    for index, element in enumerate(manager_elements):
        name = element.get("name", "").strip()
        parameters = [
            param
            for param in syntax_parameters(root, element.find("syntax"), snapshots)
            # Action handles ActionID (most actions include Login's definition).
            if param["name"].lower() != "actionid"
        ]
        actions.setdefault(name, []).append(
            {
                "name": name,
                "index": index,
                "modules": [element.get("module", "")],
                "since": _versions(element),
                "synopsis": _synopsis(element),
                "parameters": parameters,
            }
        )

    events: dict[str, list[dict[str, Any]]] = {}
    event_elements = list(root.iter("managerEvent"))
    for index, element in enumerate(event_elements):
        name = element.get("name", "").strip()
        # An event may be raised from several places (managerEventInstance),
        # each documenting its own module, versions and headers.
        for instance in element.findall("managerEventInstance"):
            headers = syntax_parameters(root, instance.find("syntax"), snapshots, flags=False)
            events.setdefault(name, []).append(
                {
                    "name": name,
                    "index": index,
                    "modules": [instance.get("module") or element.get("module", "")],
                    "since": _versions(instance),
                    "synopsis": _synopsis(instance),
                    "headers": headers,
                }
            )

    return {
        "asterisk": asterisk,
        "source": xml_path.name,
        "elements": {"manager": len(manager_elements), "managerEvent": len(event_elements)},
        "snapshots": snapshots,
        "actions": [_merge(actions[name], "parameters") for name in sorted(actions, key=_sort_key)],
        "events": [_merge(events[name], "headers") for name in sorted(events, key=_sort_key)],
    }


def dump_spec(spec: dict[str, Any]) -> str:
    """Serialise the spec as JSON with one action or event per line (small diffs)."""
    lines = ["{"]
    for key in ("asterisk", "source", "elements", "snapshots"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(spec[key], ensure_ascii=False)},")
    for key in ("actions", "events"):
        lines.append(f"  {json.dumps(key)}: [")
        entries = [json.dumps(entry, ensure_ascii=False) for entry in spec[key]]
        lines.extend(f"    {entry}," for entry in entries[:-1])
        lines.extend(f"    {entry}" for entry in entries[-1:])
        lines.append("  ]," if key == "actions" else "  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- render: JSON -> Python ----------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def python_name(header: str) -> str:
    """Map an AMI header to a Python name (see the module doc for the rule)."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", _CAMEL.sub("_", header)).strip("_").lower()
    if not name:
        raise ValueError(f"cannot name header {header!r}")
    if name[0].isdigit():
        name = "h_" + name  # "100rel" (EndpointDetail) -> h_100rel
    return name + "_" if keyword.iskeyword(name) else name


def class_name(ami_name: str, reserved: frozenset[str]) -> str:
    """Map an AMI action or event name to a class name."""
    name = ami_name
    if not name.isidentifier() or keyword.iskeyword(name):
        name = re.sub(r"[^0-9a-zA-Z_]+", "_", name).strip("_")
    if name in reserved:
        name += "_"
    if not name.isidentifier():
        raise ValueError(f"cannot name {ami_name!r}")
    return name


def _literal(value: Any) -> str:
    # json.dumps gives double-quoted strings, the style ruff format keeps.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


#: Characters of the XML prose that ruff flags as ambiguous in docstrings (RUF002).
_ASCII = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)


def _wrap(text: str, indent: int, first: str = "", hang: int = 4) -> list[str]:
    """Wrap docstring text (escaped for a triple-quoted string) to the line length.

    ``first`` starts the first line (``"name: "``); the lines after it are
    indented ``hang`` more than ``indent``.
    """
    text = text.translate(_ASCII).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return textwrap.wrap(
        first + text,
        LINE_LENGTH,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hang if first else indent),
        break_on_hyphens=False,
        break_long_words=False,
    )


#: Enum values that are real values of the header, not a description of a syntax.
_PLAIN_VALUE = re.compile(r"[\w.+-]+(?: [\w.+-]+)*")


def _plain_enum(values: list[str]) -> bool:
    return bool(values) and all(_PLAIN_VALUE.fullmatch(v) and "..." not in v for v in values)


def _item_doc(py: str, item: dict[str, Any]) -> list[str]:
    """Return the docstring lines documenting one parameter or header."""
    parts = [item["text"].strip()] if item.get("text") else []
    if item.get("enum"):
        # "Valid values are:" in the XML already introduces the list.
        intro = "" if parts and parts[-1].endswith(":") else "Values: "
        parts.append(intro + ", ".join(f"``{v}``" for v in item["enum"]) + ".")
    if item.get("default") is not None:
        parts.append(f"Asterisk's default: ``{item['default']}``.")
    if item.get("required"):
        parts.append("Required.")
    return _wrap(" ".join(parts) or "(Undocumented.)", 8, f"{py}: ")


def _about(kind: str, entry: dict[str, Any], asterisk: str) -> list[str]:
    """Return the docstring's closing paragraph: modules, versions and the reference link."""
    details = f"Module {', '.join(entry['modules'])}"
    if entry["since"]:
        details += f", since Asterisk {', '.join(entry['since'])}"
    url = DOCS_URL.format(
        major=asterisk.split(".")[0],
        kind="AMI_Actions" if kind == "action" else "AMI_Events",
        name=entry["name"],
    )
    return [*_wrap(details + ".", 4), f"    {url}"]


def _docstring(summary: str, sections: list[list[str]]) -> list[str]:
    """Return a docstring: a summary line (wrapped if long), then the sections."""
    summary = summary.strip() or "(Undocumented.)"
    if not summary.endswith((".", "!", "?")):
        summary += "."
    lines = _wrap(summary, 4, '"""', hang=0)
    for section in sections:
        if section:
            lines += ["", *section]
    return [*lines, '    """']


def _class_line(cls: str, bases: list[str], entry: dict[str, Any]) -> list[str]:
    # The AMI name is given only where the class name differs from it.
    keywords = [f"ami_name={_literal(entry['name'])}"] if cls != entry["name"] else []
    keywords += [
        f"module={_literal(', '.join(entry['modules']))}",
        f"since={_literal(', '.join(entry['since']))}",
    ]
    lines = _bracket(0, f"class {cls}(", [*bases, *keywords], "):")
    if cls != entry["name"]:
        # A mapped name (AOC_D) is not CapWords; it mirrors the AMI name instead.
        lines[0] += "  # noqa: N801"
    return lines


def _bracket(
    indent: int,
    head: str,
    items: list[str],
    tail: str,
    split: bool = False,
) -> list[str]:
    """Format ``head item, item tail`` as ruff format would keep it.

    The construct stays on one line when it fits in ``LINE_LENGTH``; otherwise
    it is split one item per line with a trailing comma, which ruff's "magic
    trailing comma" keeps as it is. Items are already formatted lines (an item
    may itself be a multi-line construct). ``split`` forces the split form.
    """
    pad = " " * indent
    if not split and all("\n" not in item for item in items):
        line = f"{pad}{head}{', '.join(items)}{tail}"
        if len(line) <= LINE_LENGTH:
            return [line]
    lines = [f"{pad}{head}"]
    inner = " " * (indent + 4)
    for item in items:
        # The first line of an item goes after the indent; the others carry their own.
        first, *rest = item.split("\n")
        lines.append(inner + first)
        lines.extend(rest)
        lines[-1] += ","
    lines.append(f"{pad}{tail}")
    return lines


def _action_fields(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the parameters with their Python names, types and field declarations."""
    override = OVERRIDES.get(entry["name"], {})
    defaults = override.get("defaults", {})
    annotations = override.get("annotations", {})
    positional = override.get("positional", [])
    used = set(RESERVED_ACTION_PARAMETERS)
    by_header = {p["name"]: p for p in entry["parameters"]}
    order = override.get("order") or list(by_header)
    if sorted(order) != sorted(by_header):
        raise ValueError(f"order of {entry['name']} must list its parameters")
    fields = []
    for header in order:
        param = by_header[header]
        py = python_name(header)
        while py in used:
            py += "_"
        used.add(py)
        typed_enum = _plain_enum(param.get("enum", []))
        if header in annotations:
            annotation = annotations[header]
        elif typed_enum:
            annotation = "Literal[" + ", ".join(_literal(v) for v in param["enum"]) + "]"
        else:
            annotation = "HeaderValue"
        args = [_literal(header)]
        if param["required"] or header in positional:
            args.append("kw_only=False")
        if header in defaults:
            args.append(f"default={_literal(defaults[header])}")
        elif not param["required"] and header not in override.get("required_args", []):
            args.append("default=None")
        # param() takes a header as required when its argument has no default.
        if param["required"] != (not any(a.startswith("default=") for a in args)):
            args.append(f"required={param['required']}")
        if "default=None" in args and annotation != "HeaderValue":
            annotation += " | None"
        if header in override.get("texts", {}):
            param = {**param, "text": override["texts"][header]}
        fields.append(
            {**param, "py": py, "typed_enum": typed_enum, "annotation": annotation, "args": args}
        )
    return fields


def _field_lines(field: dict[str, Any]) -> list[str]:
    """Return one field declaration, split as ruff format would keep it."""
    py, annotation = field["py"], field["annotation"]
    line = f"    {py}: {annotation} = param({', '.join(field['args'])})"
    if len(line) <= LINE_LENGTH:
        return [line]
    if not annotation.startswith("Literal["):
        return _bracket(4, f"{py}: {annotation} = param(", field["args"], ")")
    # A long Literal: one value per line (the trailing comma keeps it so).
    values = [_literal(v) for v in field["enum"]]
    value = f"param({', '.join(field['args'])})"
    if annotation.endswith(" | None"):
        literal = _bracket(8, "Literal[", values, "]", split=True)
        return [f"    {py}: (", *literal, "        | None", f"    ) = {value}"]
    literal = _bracket(4, f"{py}: Literal[", values, "]", split=True)
    return [*literal[:-1], f"    ] = {value}"]


def render_action(entry: dict[str, Any], cls: str, asterisk: str) -> list[str]:
    """Return the lines of one action class."""
    override = OVERRIDES.get(entry["name"], {})
    fields = _action_fields(entry)
    positional = [f for f in fields if "kw_only=False" in f["args"]]
    defaulted = ["default=" in " ".join(f["args"]) for f in positional]
    if defaulted != sorted(defaulted):
        raise ValueError(
            f"{entry['name']}: a positional parameter without default follows one with"
        )
    # Documented in signature order: positional, the extra fields, keyword-only.
    args = [line for f in positional for line in _item_doc(f["py"], f)]
    for py, _annotation, text in override.get("extra", []):
        args += _wrap(text, 8, f"{py}: ")
    keyword_only = [f for f in fields if f not in positional]
    args += [line for f in keyword_only for line in _item_doc(f["py"], f)]
    sections = [["    Args:", *args] if args else [], _about("action", entry, asterisk)]
    lines = _class_line(cls, [override.get("base", "DocumentedAction")], entry)
    lines += _docstring(entry["synopsis"], sections)
    declared = []
    for field in fields:
        declared += _field_lines(field)
        if field is (positional or [None])[-1]:
            # The fields that are no header come right after the positional ones.
            for py, annotation, _text in override.get("extra", []):
                declared.append(
                    f"    {py}: {annotation} = param(None, kw_only=False, default=None)"
                )
    if declared:
        lines += ["", *declared]
    return lines


def _snapshot_class(snapshot: str, prefix: str) -> str:
    return prefix + "".join(part.capitalize() for part in snapshot.split("_"))


def _event_attribute(header: str) -> str:
    attribute = python_name(header)
    if attribute in RESERVED_EVENT_ATTRIBUTES:
        attribute = attribute.rstrip("_") + "_header"
    return attribute


def _accessors(owner: str, headers: list[dict[str, Any]], used: set[str]) -> list[str]:
    lines = []
    for item in headers:
        attribute = _event_attribute(item["name"])
        if attribute in used:
            raise ValueError(f"{owner}: two headers map to {attribute!r}")
        used.add(attribute)
        lines.append(f"    {attribute} = header({_literal(item['name'])})")
    return lines


def render_snapshot(snapshot: str, prefix: str, headers: list[dict[str, Any]]) -> list[str]:
    """Return the lines of one snapshot mixin (``DestChannelSnapshot``)."""
    cls = _snapshot_class(snapshot, prefix)
    kind = snapshot.split("_")[0]
    prefixed = [{**h, "name": prefix + h["name"]} for h in headers]
    if prefix:
        summary = f"The headers of the {kind} snapshot prefixed ``{prefix}``."
        about = [
            *_wrap(
                f"What each header means is documented on {_snapshot_class(snapshot, '')}; "
                f"here they describe the {prefix} {kind}.",
                4,
            )
        ]
        doc = _docstring(summary, [about])
    else:
        summary = f"The headers Asterisk adds to an event for a {kind} (``<{snapshot}/>``)."
        attributes = [line for h in headers for line in _item_doc(_event_attribute(h["name"]), h)]
        doc = _docstring(summary, [["    Attributes:", *attributes]])
    lines = [f"class {cls}(Event):", *doc, "", "    __slots__ = ()", ""]
    return lines + _accessors(cls, prefixed, set())


def render_event(entry: dict[str, Any], cls: str, spec: dict[str, Any]) -> list[str]:
    """Return the lines of one event class."""
    mixins, own, used = [], [], set()
    for item in entry["headers"]:
        if "snapshot" in item:
            mixins.append(_snapshot_class(item["snapshot"], item["prefix"]))
            used.update(
                _event_attribute(item["prefix"] + h["name"])
                for h in spec["snapshots"][item["snapshot"]]
            )
        elif item["name"].lower() != "actionid" and _event_attribute(item["name"]) not in used:
            own.append(item)  # (ActionID has no accessor: Message.action_id reads it.)
    attributes = [line for h in own for line in _item_doc(_event_attribute(h["name"]), h)]
    about = _about("event", entry, spec["asterisk"])
    if mixins:
        about = _wrap("Snapshot headers: " + ", ".join(mixins) + ".", 4) + about
    sections = [["    Attributes:", *attributes] if attributes else [], about]
    lines = _class_line(cls, ["DocumentedEvent", *mixins], entry)
    lines += _docstring(entry["synopsis"], sections)
    lines += ["", "    __slots__ = ()"]
    accessors = _accessors(cls, own, set(used))
    if accessors:
        lines += ["", *accessors]
    return lines


def _banner(spec: dict[str, Any]) -> str:
    return (
        "# Generated by scripts/generate_catalogue.py from Asterisk "
        f"{spec['asterisk']}'s {spec['source']}; do not edit."
    )


ACTIONS_HEAD = '''\
"""Typed AMI actions: one class per action Asterisk {asterisk} documents.

Each class takes the documented parameters: the required ones positionally, in
the documented order, the others as keywords (``None`` leaves a header out)::

    Originate("PJSIP/100", application="Playback", data="demo-congrats", async_=True)

Parameter names split the header names' CamelCase (``CallerID`` -> ``caller_id``,
``EarlyMedia`` -> ``early_media``, ``Async`` -> ``async_``); ``parameters`` on
each class maps them back, and each class's docstring gives Asterisk's own
description of every parameter. An unknown keyword raises ``TypeError`` naming
the closest parameters; headers this catalogue does not document go in
``extra_headers={{"Name": "value"}}``, and :class:`~amiasync.message.Action`
itself sends actions the catalogue lacks. A required parameter given as
``None`` raises :class:`~amiasync.exceptions.InvalidAction` before anything is
sent. Asterisk's units are kept: ``Originate(timeout=...)`` is in milliseconds.

Generated from Asterisk's XML documentation by ``scripts/generate_catalogue.py``,
which also lists the few hand-tuned call shapes (``Login(username, secret,
challenge)``, ``Challenge()`` asking for MD5).
"""

from __future__ import annotations

from typing import Literal

from .catalogue import DocumentedAction, LoginAction, param
from .message import HeaderValue
'''


EVENT_CLASSES_HEAD = '''\
"""The typed AMI event classes; import them from :mod:`amiasync.events`.

This module is loaded on first use (see :mod:`amiasync.events`), so that
``import amiasync`` does not pay for {count} classes. It has no ``__all__``: the
public list is the one of :mod:`amiasync.events`.
"""

from __future__ import annotations

from .catalogue import DocumentedEvent, header
from .message import Event
'''


EVENTS_HEAD = '''\
# ruff: noqa: F405 - the names in __all__ come from the star import, for type checkers.
"""Typed AMI events: one class per event Asterisk {asterisk} documents.

The decoder builds the class named in :data:`EVENT_CLASSES` for each event it
reads (a plain :class:`~amiasync.message.Event` for names not listed). Every
documented header has an accessor returning its first value, or ``None`` when
the event does not carry it::

    event.channel_state_desc  # same as event.get("ChannelStateDesc")

Accessor names split the header names' CamelCase (``CallerIDNum`` ->
``caller_id_num``, ``Cause-txt`` -> ``cause_txt``); a keyword gets a trailing
``_``, and a name that ``Event`` already uses gets ``_header`` appended
(``Module`` -> ``module_header``). Channel and bridge snapshot headers come from
shared mixins (``ChannelSnapshot``, ``DestChannelSnapshot``, ``BridgeSnapshot``),
which also serve ``isinstance`` checks.

The classes live in ``amiasync._events`` (private), imported on the first lookup in
:data:`EVENT_CLASSES` or the first attribute read here, so that importing the
package stays fast. Generated from Asterisk's XML documentation by
``scripts/generate_catalogue.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalogue import LazyEventClasses, lazy_getattr

if TYPE_CHECKING:
    from ._events import *  # noqa: F403
'''


EVENTS_TAIL = """\
#: Event name to class, used by the decoder to build typed events.
EVENT_CLASSES = LazyEventClasses("amiasync._events")

#: PEP 562: the classes are imported on first use.
__getattr__ = lazy_getattr(globals(), "amiasync._events")
"""


def render(spec: dict[str, Any]) -> tuple[str, str, str]:
    """Return the text of ``actions.py``, ``_events.py`` and ``events.py`` for a spec."""
    action_classes = [(class_name(a["name"], RESERVED_ACTION_CLASSES), a) for a in spec["actions"]]
    event_classes = [(class_name(e["name"], RESERVED_EVENT_CLASSES), e) for e in spec["events"]]
    for kind, classes in (("action", action_classes), ("event", event_classes)):
        names = [cls for cls, _ in classes]
        if len(set(names)) != len(names):
            raise ValueError(f"two {kind}s map to the same class name")

    actions = [
        _banner(spec),
        ACTIONS_HEAD.format(asterisk=spec["asterisk"]).rstrip("\n"),
        "",
        *_bracket(0, "__all__ = [", [_literal(cls) for cls, _ in action_classes], "]"),
    ]
    for cls, entry in action_classes:
        actions += ["", "", *render_action(entry, cls, spec["asterisk"])]

    # The snapshot mixins the events use, in the order they first appear.
    blocks = {(h.get("snapshot"), h.get("prefix")) for e in spec["events"] for h in e["headers"]}
    used = sorted(blocks - {(None, None)}, key=lambda sp: (sp[1] != "", sp[0], sp[1]))
    mixins = [_snapshot_class(snapshot, prefix) for snapshot, prefix in used]
    if set(mixins) & {cls for cls, _ in event_classes}:
        raise ValueError("a snapshot mixin takes the name of an event")
    exported = [_literal(cls) for cls, _ in event_classes]
    classes = [_banner(spec), EVENT_CLASSES_HEAD.format(count=len(event_classes)).rstrip("\n")]
    for snapshot, prefix in used:
        classes += ["", "", *render_snapshot(snapshot, prefix, spec["snapshots"][snapshot])]
    for cls, entry in event_classes:
        classes += ["", "", *render_event(entry, cls, spec)]
    classes += ["", "", "#: Event name to class: what amiasync.events.EVENT_CLASSES loads."]
    classes += [
        "_BY_NAME: dict[str, type[Event]] = {",
        "    cls.name: cls",
        "    for cls in list(globals().values())",
        "    if isinstance(cls, type) and issubclass(cls, DocumentedEvent) and cls.name",
        "}",
    ]

    events = [
        _banner(spec),
        EVENTS_HEAD.format(asterisk=spec["asterisk"]).rstrip("\n"),
        "",
        *_bracket(0, "__all__ = [", ['"EVENT_CLASSES"', *exported, *map(_literal, mixins)], "]"),
        "",
        EVENTS_TAIL.rstrip("\n"),
    ]
    return (
        "\n".join(actions) + "\n",
        "\n".join(classes) + "\n",
        "\n".join(events) + "\n",
    )


# -- command line --------------------------------------------------------------


def load_spec(path: Path = SPEC) -> dict[str, Any]:
    """Read the committed spec."""
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="write the JSON spec from the XML")
    extract_cmd.add_argument("xml", type=Path, help="path to core-en_US.xml")
    extract_cmd.add_argument("--xslt", type=Path, help="appdocsxml.xslt (default: next to the XML)")
    extract_cmd.add_argument("--asterisk", default=DEFAULT_ASTERISK, help="the Asterisk version")
    extract_cmd.add_argument("--output", type=Path, default=SPEC, help="the JSON file to write")
    commands.add_parser("render", help="write the catalogue modules from the JSON spec")
    commands.add_parser("check", help="exit 1 if the generated modules are out of date")
    args = parser.parse_args(argv)

    if args.command == "extract":
        spec = extract(args.xml, args.xslt, args.asterisk)
        args.output.write_text(dump_spec(spec), encoding="utf-8")
        print(
            f"{args.output}: {len(spec['actions'])} actions "
            f"({spec['elements']['manager']} <manager>), {len(spec['events'])} events "
            f"({spec['elements']['managerEvent']} <managerEvent>)"
        )
        return 0

    outputs = dict(zip((ACTIONS_PY, EVENT_CLASSES_PY, EVENTS_PY), render(load_spec())))
    if args.command == "render":
        for path, text in outputs.items():
            path.write_text(text, encoding="utf-8")
        print("wrote " + ", ".join(str(path.relative_to(ROOT)) for path in outputs))
        return 0

    stale = 0
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            stale += 1
            relative = str(path.relative_to(ROOT))
            diff = difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), relative, "rendered", n=1
            )
            sys.stdout.writelines(list(diff)[:40])
            print(f"{relative} is out of date; run: python scripts/generate_catalogue.py render")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
