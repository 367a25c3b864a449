#!/usr/bin/env python3
"""Generate amiasync's typed action and event catalogue from Asterisk's XML docs.

Asterisk ships machine-readable documentation of every manager action and
event (Debian: ``/usr/share/asterisk/documentation/core-en_US.xml``). This
script turns it into ``amiasync/actions.py`` and ``amiasync/events.py`` in two
steps, so that the Asterisk installation is needed only to refresh the spec::

    python scripts/generate_catalogue.py extract PATH/TO/core-en_US.xml
    python scripts/generate_catalogue.py render
    python scripts/generate_catalogue.py check

``extract`` writes ``scripts/catalogue.json``: names, modules, versions and
parameter names with their ``required`` flags, and nothing of Asterisk's prose.
Its layout: ``asterisk`` (the release), ``source`` (the XML file name),
``elements`` (how many ``<manager>`` and ``<managerEvent>`` elements the XML
has), then ``actions`` (``name``, ``modules``, ``since``, ``parameters``: a
list of ``{name, required}`` in documented order) and ``events`` (``name``,
``modules``, ``since``, ``headers`` in documented order), sorted by name,
one entry per line.
``render`` writes the two modules from that file, and ``check`` exits with
status 1 when the committed modules differ from what ``render`` would write.
The script uses the standard library only and runs on Python 3.9+.

How the XML is read (Asterisk 22.10.1; see also the notes in ``extract``):

* ``<manager>`` elements are actions and ``<managerEvent>`` elements events,
  wherever they appear: ten events are documented inside an action's
  ``<responses>``. A name documented more than once (the voicemail actions and
  events exist once per ``app_voicemail`` flavour, ``VarSet`` in three modules)
  becomes one entry: modules and versions are merged, parameters are taken in
  order from each definition, sorted by module, the first spelling winning.
  The classes' ``module`` and ``since`` join the lists with ``", "``.
* The installed file still holds its ``<xi:include>`` elements. Those directly
  in a ``<syntax>`` are resolved here with a small XPath subset (the XML names
  only same-document XPointers such as
  ``/docs/managerEvent[@name='X']/managerEventInstance/syntax/parameter``),
  as libxml2's XInclude processing would.
* ``<channel_snapshot prefix="Dest"/>`` and ``<bridge_snapshot/>`` are expanded
  by Asterisk through ``appdocsxml.xslt``, installed next to the XML: the
  header names are read from that stylesheet's templates (``concat(@prefix,
  'Channel')``), so the list follows the Asterisk release.
* Every action documents ``ActionID`` (usually by including Login's); it is
  left out, as :class:`amiasync.message.Action` handles it.

Naming rules used by ``render``:

* Class names are the AMI names when they are Python identifiers; other names
  have each run of other characters replaced by ``_`` (``AOC-D`` -> ``AOC_D``,
  with ``# noqa: N801``), as the class docstring records.
* Parameter and accessor names are the lowercased header with each run of
  characters other than letters, digits and ``_`` replaced by ``_`` and outer
  ``_`` stripped (``Cause-txt`` -> ``cause_txt``, ``UnitAmount(0)`` ->
  ``unitamount_0``); a Python keyword gets a trailing ``_`` (``Async`` ->
  ``async_``), and a name that would start with a digit gets ``h_`` in front
  (``100rel`` -> ``h_100rel``).
* An event accessor that would hide an attribute of ``Event`` (see
  ``RESERVED_EVENT_ATTRIBUTES``) gets ``_header`` appended (``Module`` ->
  ``module_header``); the event's ``ActionID`` header has no accessor, since
  ``Message.action_id`` reads it.
* Action signatures: required parameters are positional, in documented order;
  the others keyword-only with default ``None`` (left out of the message).
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
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "scripts" / "catalogue.json"
ACTIONS_PY = ROOT / "amiasync" / "actions.py"
EVENTS_PY = ROOT / "amiasync" / "events.py"

#: The Asterisk release the committed spec was extracted from (``extract --asterisk``).
DEFAULT_ASTERISK = "22.10.1"

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
#: ``header_order``: the order headers go on the wire, when it must differ from
#:     the documented one (Login's matches the recorded sessions in tests/fixtures).
OVERRIDES: dict[str, dict[str, Any]] = {
    "Challenge": {"defaults": {"AuthType": "MD5"}},
    "Login": {
        "positional": ["Secret"],
        "header_order": ["AuthType", "Username", "Secret", "Key", "Events"],
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

#: Names an action ``__init__`` parameter must not take (they get a trailing ``_``).
RESERVED_ACTION_PARAMETERS = frozenset({"self", "action_id", "headers"})

#: Module-level names of the generated files, which no class may take.
RESERVED_ACTION_CLASSES = frozenset(
    {"Action", "ClassVar", "DocumentedAction", "HeaderValue", "InvalidAction", "Iterable"}
)
RESERVED_EVENT_CLASSES = frozenset({"ClassVar", "EVENT_CLASSES", "Event", "header"})


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


def read_snapshot_templates(xslt: Path) -> dict[str, list[str]]:
    """Read the header names each ``*_snapshot`` template of the stylesheet emits.

    Each template creates ``<parameter>`` elements whose name is
    ``concat(@prefix, 'Suffix')``; the result maps the template (``channel_snapshot``)
    to the suffixes, in order.
    """
    templates: dict[str, list[str]] = {}
    for template in ET.parse(xslt).getroot().iter(f"{XSL}template"):
        match = template.get("match", "")
        if not match.endswith("_snapshot"):
            continue
        names = templates[match] = []
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
                names.append(literal.group(1))
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
    root: ET.Element, syntax: ET.Element | None, snapshots: dict[str, list[str]]
) -> list[tuple[str, bool]]:
    """Return ``(name, required)`` for each parameter a ``<syntax>`` documents, in order.

    Includes are resolved against the document as written: a pointer to
    another element's ``syntax/parameter`` brings its ``<parameter>`` elements,
    not its snapshots or includes, as XInclude (run before the stylesheet)
    does. Where 22.10.1 chains includes (MeetmeTalking, MeetmeMute) the event
    also includes the inner target directly, so nothing is lost.
    """
    found: list[tuple[str, bool]] = []
    if syntax is None:
        return found
    for child in syntax:
        if child.tag == "parameter":
            found.append((child.get("name", ""), _flag(child.get("required"))))
        elif child.tag == XI_INCLUDE:
            if child.get("href"):
                raise ValueError(f"include of another file: {child.get('href')}")
            for target in resolve_xpointer(root, child.get("xpointer", "")):
                if target.tag == "parameter":
                    found.append((target.get("name", ""), _flag(target.get("required"))))
        elif child.tag in snapshots:
            prefix = child.get("prefix", "")
            found.extend((prefix + suffix, False) for suffix in snapshots[child.tag])
        else:
            raise ValueError(f"unexpected <{child.tag}> in <syntax>")
    return [(name.strip(), required) for name, required in found if name.strip()]


def _sort_key(name: str) -> tuple[str, str]:
    # Case-insensitive first (AbsoluteTimeout before AGI), then exact, for stability.
    return name.lower(), name


def _merge(definitions: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Merge the definitions of one name: union of modules, versions and parameters."""
    definitions.sort(key=lambda d: (d["modules"], d["index"]))
    merged: dict[str, Any] = {
        "name": definitions[0]["name"],
        "modules": sorted({m for d in definitions for m in d["modules"]}),
        "since": sorted({v for d in definitions for v in d["since"]}, key=_version_key),
    }
    seen: dict[str, Any] = {}
    for definition in definitions:
        for item in definition[key]:
            # AMI header names are case-insensitive: the first spelling wins.
            name = item["name"] if isinstance(item, dict) else item
            seen.setdefault(name.lower(), item)
    merged[key] = list(seen.values())
    return merged


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
            {"name": param, "required": required}
            for param, required in syntax_parameters(root, element.find("syntax"), snapshots)
            # Action handles ActionID (most actions include Login's definition).
            if param.lower() != "actionid"
        ]
        actions.setdefault(name, []).append(
            {
                "name": name,
                "index": index,
                "modules": [element.get("module", "")],
                "since": _versions(element),
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
            headers = syntax_parameters(root, instance.find("syntax"), snapshots)
            events.setdefault(name, []).append(
                {
                    "name": name,
                    "index": index,
                    "modules": [instance.get("module") or element.get("module", "")],
                    "since": _versions(instance),
                    "headers": [header for header, _ in headers],
                }
            )

    return {
        "asterisk": asterisk,
        "source": xml_path.name,
        "elements": {"manager": len(manager_elements), "managerEvent": len(event_elements)},
        "actions": [_merge(actions[name], "parameters") for name in sorted(actions, key=_sort_key)],
        "events": [_merge(events[name], "headers") for name in sorted(events, key=_sort_key)],
    }


def dump_spec(spec: dict[str, Any]) -> str:
    """Serialise the spec as JSON with one action or event per line (small diffs)."""
    lines = ["{"]
    for key in ("asterisk", "source", "elements"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(spec[key])},")
    for key in ("actions", "events"):
        lines.append(f"  {json.dumps(key)}: [")
        entries = [json.dumps(entry) for entry in spec[key]]
        lines.extend(f"    {entry}," for entry in entries[:-1])
        lines.extend(f"    {entry}" for entry in entries[-1:])
        lines.append("  ]," if key == "actions" else "  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- render: JSON -> Python ----------------------------------------------------


def python_name(header: str) -> str:
    """Map an AMI header to a Python name (see the module doc for the rule)."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", header.lower()).strip("_")
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
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _about(kind: str, entry: dict[str, Any], cls: str) -> list[str]:
    """Return the class docstring lines: name, modules and versions, no prose."""
    details = f"module: {', '.join(entry['modules'])}"
    if entry["since"]:
        details += f"; since {', '.join(entry['since'])}"
    note = ""
    if cls != entry["name"]:
        note = f" Named {cls}: {entry['name']} is not a Python identifier."
    text = f"The {entry['name']} {kind} ({details}).{note}"
    if len(f'    """{text}"""') <= LINE_LENGTH:
        return [f'    """{text}"""']
    # Too long for one line: a summary line, then the details.
    lines = [f'    """The {entry["name"]} {kind}.', "", f"    {details[0].upper()}{details[1:]}."]
    if note:
        lines.append(f"    {note.strip()}")
    return [*lines, '    """']


def _bracket(
    indent: int,
    head: str,
    items: list[str],
    tail: str,
    one_tuple: bool = False,
    split: bool = False,
) -> list[str]:
    """Format ``head item, item tail`` as ruff format would keep it.

    The construct stays on one line when it fits in ``LINE_LENGTH``; otherwise
    it is split one item per line with a trailing comma, which ruff's "magic
    trailing comma" keeps as it is. Items are already formatted lines (an item
    may itself be a multi-line construct). ``one_tuple`` adds the comma a
    one-element tuple needs on one line; ``split`` forces the split form.
    """
    pad = " " * indent
    if not split and all("\n" not in item for item in items):
        flat = ", ".join(items) + ("," if one_tuple and len(items) == 1 else "")
        line = f"{pad}{head}{flat}{tail}"
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


def _nested(indent: int, head: str, items: list[str], tail: str, one_tuple: bool = False) -> str:
    """Format a bracketed item that sits at ``indent`` inside an enclosing split."""
    lines = _bracket(indent, head, items, tail + ",", one_tuple)
    if len(lines) == 1:
        # It fits on its line (with the comma the enclosing split adds).
        return lines[0].strip()[:-1]
    lines = _bracket(indent, head, items, tail, split=True)
    return "\n".join([lines[0].strip(), *lines[1:]])


def _action_parameters(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the parameters with their Python names and signature details."""
    override = OVERRIDES.get(entry["name"], {})
    defaults = override.get("defaults", {})
    used = set(RESERVED_ACTION_PARAMETERS)
    params = []
    for param in entry["parameters"]:
        py = python_name(param["name"])
        while py in used:
            py += "_"
        used.add(py)
        params.append(
            {
                **param,
                "py": py,
                "default": _literal(defaults.get(param["name"])),
                "has_default": param["name"] in defaults,
            }
        )
    return params


def render_action(entry: dict[str, Any], cls: str) -> list[str]:
    """Return the lines of one action class."""
    override = OVERRIDES.get(entry["name"], {})
    params = _action_parameters(entry)
    by_header = {p["name"]: p for p in params}
    positional = [p for p in params if p["required"] and not p["has_default"]]
    positional += [p for p in params if p["required"] and p["has_default"]]
    positional += [by_header[name] for name in override.get("positional", [])]
    keyword_only = [p for p in params if p not in positional]
    order = override.get("header_order") or [p["name"] for p in params]
    if sorted(order) != sorted(by_header):
        raise ValueError(f"header_order of {entry['name']} must list its parameters")

    noqa = "  # noqa: N801" if cls != entry["name"] else ""
    lines = [f"class {cls}(DocumentedAction):{noqa}", *_about("action", entry, cls), ""]
    lines.append(f"    name = {_literal(entry['name'])}")
    lines.append(f"    module = {_literal(', '.join(entry['modules']))}")
    lines.append(f"    since = {_literal(', '.join(entry['since']))}")
    required = [_literal(p["name"]) for p in params if p["required"]]
    if required:
        lines += _bracket(4, "required = (", required, ")", one_tuple=True)
    if not params:
        return lines
    mapping = [f"{_literal(p['py'])}: {_literal(p['name'])}" for p in params]
    lines += _bracket(4, "parameters: ClassVar[dict[str, str]] = {", mapping, "}")

    signature = ["self"]
    for p in positional:
        # Only a required parameter without an override default has no default.
        default = "" if p["required"] and not p["has_default"] else " = " + p["default"]
        signature.append(f"{p['py']}: HeaderValue{default}")
    signature.append("*")
    signature += [f"{p['py']}: HeaderValue = {p['default']}" for p in keyword_only]
    signature += ["action_id: str | None = None", "**headers: HeaderValue"]
    lines.append("")
    lines += _bracket(4, "def __init__(", signature, ") -> None:")

    pairs = [f"({_literal(name)}, {by_header[name]['py']})" for name in order]
    fields = _nested(12, "(", pairs, ")", one_tuple=True)
    lines += _bracket(8, "super().__init__(", [fields, "action_id=action_id", "**headers"], ")")
    return lines


def render_event(entry: dict[str, Any], cls: str) -> list[str]:
    """Return the lines of one event class."""
    # A mapped name (AOC_D) is not CapWords; it mirrors the AMI name instead.
    noqa = "  # noqa: N801" if cls != entry["name"] else ""
    lines = [f"class {cls}(Event):{noqa}", *_about("event", entry, cls), ""]
    lines.append("    __slots__ = ()")
    lines.append(f"    name = {_literal(entry['name'])}")
    lines.append(f"    module = {_literal(', '.join(entry['modules']))}")
    lines.append(f"    since = {_literal(', '.join(entry['since']))}")
    used: set[str] = set()
    for name in entry["headers"]:
        if name.lower() == "actionid":
            continue  # Message.action_id reads it.
        attribute = python_name(name)
        if attribute in RESERVED_EVENT_ATTRIBUTES:
            attribute = attribute.rstrip("_") + "_header"
        if attribute in used:
            raise ValueError(f"{entry['name']}: two headers map to {attribute!r}")
        used.add(attribute)
        lines.append(f"    {attribute} = header({_literal(name)})")
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

Parameter names are the header names lowercased, with characters that cannot
appear in a Python name replaced by ``_`` and a ``_`` added to keywords
(``Async`` -> ``async_``); ``parameters`` on each class maps them back. Any
other header can be passed as a keyword argument (``**headers``), and
:class:`~amiasync.message.Action` itself sends actions this catalogue lacks.
A required parameter given as ``None`` raises
:class:`~amiasync.exceptions.InvalidAction` before anything is sent.

The classes are generated from Asterisk's XML documentation by
``scripts/generate_catalogue.py``, which also lists the few hand-tuned call
shapes (``Login(username, secret)``, ``Challenge()`` asking for MD5).
"""

from __future__ import annotations

from typing import ClassVar

from .message import DocumentedAction, HeaderValue, check_required
'''


EVENTS_HEAD = '''\
"""Typed AMI events: one class per event Asterisk {asterisk} documents.

The decoder builds the class named in :data:`EVENT_CLASSES` for each event it
reads (a plain :class:`~amiasync.message.Event` for names not listed). Every
documented header has an accessor returning its first value, or ``None`` when
the event does not carry it::

    event.channel  # same as event.get("Channel")

Accessor names are the header names lowercased, with characters that cannot
appear in a Python name replaced by ``_`` (``Cause-txt`` -> ``cause_txt``); a
keyword gets a trailing ``_``, and a name that ``Event`` already uses gets
``_header`` appended (``Module`` -> ``module_header``). Channel and bridge
snapshot headers are included, with their prefixes (``DestChannel``).

Generated from Asterisk's XML documentation by ``scripts/generate_catalogue.py``.
"""

from __future__ import annotations

from .message import Event, header
'''


def render(spec: dict[str, Any]) -> tuple[str, str]:
    """Return the text of ``actions.py`` and ``events.py`` for a spec."""
    action_classes = [(class_name(a["name"], RESERVED_ACTION_CLASSES), a) for a in spec["actions"]]
    event_classes = [(class_name(e["name"], RESERVED_EVENT_CLASSES), e) for e in spec["events"]]
    for kind, classes in (("action", action_classes), ("event", event_classes)):
        names = [cls for cls, _ in classes]
        if len(set(names)) != len(names):
            raise ValueError(f"two {kind}s map to the same class name")

    exported = [_literal(n) for n in ("check_required", "DocumentedAction")]
    exported += [_literal(cls) for cls, _ in action_classes]
    actions = [
        _banner(spec),
        ACTIONS_HEAD.format(asterisk=spec["asterisk"]).rstrip("\n"),
        "",
        *_bracket(0, "__all__ = [", exported, "]"),
    ]
    for cls, entry in action_classes:
        actions += ["", "", *render_action(entry, cls)]

    events = [_banner(spec), EVENTS_HEAD.format(asterisk=spec["asterisk"]).rstrip("\n"), ""]
    exported = [_literal("EVENT_CLASSES")] + [_literal(cls) for cls, _ in event_classes]
    events += _bracket(0, "__all__ = [", exported, "]")
    for cls, entry in event_classes:
        events += ["", "", *render_event(entry, cls)]
    events += ["", "", "#: Event name to class, used by the decoder to build typed events."]
    mapping = [f"{_literal(e['name'])}: {cls}" for cls, e in event_classes]
    events += _bracket(0, "EVENT_CLASSES: dict[str, type[Event]] = {", mapping, "}")
    return "\n".join(actions) + "\n", "\n".join(events) + "\n"


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
    commands.add_parser("render", help="write actions.py and events.py from the JSON spec")
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

    actions, events = render(load_spec())
    if args.command == "render":
        ACTIONS_PY.write_text(actions, encoding="utf-8")
        EVENTS_PY.write_text(events, encoding="utf-8")
        print(f"wrote {ACTIONS_PY.relative_to(ROOT)} and {EVENTS_PY.relative_to(ROOT)}")
        return 0

    stale = 0
    for path, text in ((ACTIONS_PY, actions), (EVENTS_PY, events)):
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
