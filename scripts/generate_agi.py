"""Generate amiasync's typed AGI commands from Asterisk's XML documentation.

Asterisk documents every AGI command in an ``<agi name="...">`` element of
``core-en_US.xml`` (Debian: ``/usr/share/asterisk/documentation/``). This is
the AGI half of the catalogue pipeline, in two steps with a committed spec
between them, like ``scripts/generate_catalogue.py`` for actions and events:

    python scripts/generate_agi.py extract PATH/TO/core-en_US.xml   # -> scripts/agi_catalogue.json
    python scripts/generate_agi.py generate                         # -> amiasync/agi/commands.py
    python scripts/generate_agi.py check [--xml PATH]               # exit 1 if anything is stale

The spec, ``scripts/agi_catalogue.json``: ``asterisk`` (the release), ``source``,
and ``commands``, sorted by name, each with ``name`` (Asterisk's words, lower
case), ``since``, ``synopsis``, ``description`` (paragraphs of plain text) and
``parameters`` (``name``, ``required``, ``doc``).

How the XML is read: a ``<para>`` is a paragraph; ``<replaceable>``,
``<literal>``, ``<variable>`` and ``<filename>`` become their text; a
``<note>`` becomes a paragraph starting ``Note:``; each ``<variable>`` of a
``<variablelist>`` and each ``<enum>`` of an ``<enumlist>`` becomes a
``NAME: text`` paragraph. Whitespace runs collapse to one space.

The generated methods send the command's words in upper case and every
argument quoted (``amiasync.agi.codec.encode_command``); a parameter written
``s=silence`` in the XML is sent as ``s=<value>``. The commands that return a
value in parentheses (``VALUE_COMMANDS``) return ``str | None``; the others the
``AGIResult``.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "scripts" / "agi_catalogue.json"
MODULE_PATH = ROOT / "amiasync" / "agi" / "commands.py"
DEFAULT_XML = Path(
    "/var/cache/amiasync/asterisk-sid/usr/share/asterisk/documentation/core-en_US.xml"
)

#: Commands whose answer is ``result=1 (value)``, or ``result=0`` when there is none.
VALUE_COMMANDS = {"get variable", "get full variable", "database get"}

_SPACES = re.compile(r"\s+")
LINE_LENGTH = 100


# -- extract: XML -> JSON ------------------------------------------------------


def _text(element: ET.Element) -> str:
    return _SPACES.sub(" ", "".join(element.itertext())).strip()


def _paragraphs(element: ET.Element | None) -> list[str]:
    if element is None:
        return []
    found: list[str] = []
    for child in element:
        if child.tag == "para":
            found.append(_text(child))
        elif child.tag == "note":
            found.extend(f"Note: {p}" for p in _paragraphs(child))
        elif child.tag in ("variablelist", "enumlist"):
            for item in child:
                values = [v.get("name", "") for v in item.iter("value")]
                text = " ".join(_paragraphs(item))
                if values:
                    text = f"{text} Values: {', '.join(values)}.".strip()
                found.append(f"{item.get('name')}: {text}".rstrip(": "))
    return [p for p in found if p]


def extract(xml_path: Path, asterisk: str) -> dict[str, Any]:
    """Read the ``<agi>`` elements and return the spec (see the module doc)."""
    root = ET.parse(xml_path).getroot()
    commands = []
    for element in root.iter("agi"):
        syntax = element.find("syntax")
        parameters = [
            {
                "name": p.get("name", ""),
                "required": p.get("required") == "true",
                "doc": " ".join(_paragraphs(p)),
            }
            for p in (syntax.findall("parameter") if syntax is not None else [])
        ]
        synopsis = element.find("synopsis")
        commands.append(
            {
                "name": element.get("name", "").lower(),
                "since": [v.text or "" for v in element.iter("version")],
                "synopsis": "" if synopsis is None else _text(synopsis),
                "description": _paragraphs(element.find("description")),
                "parameters": parameters,
            }
        )
    commands.sort(key=lambda c: c["name"])
    return {"asterisk": asterisk, "source": xml_path.name, "commands": commands}


def dump_spec(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=1, ensure_ascii=False) + "\n"


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


# -- generate: JSON -> Python --------------------------------------------------


def python_name(name: str) -> str:
    """``"sample offset"`` -> ``sample_offset``, ``"s=silence"`` -> ``silence``.

    Python keywords get a trailing underscore (``class`` -> ``class_``).
    """
    name = name.split("=", 1)[-1]
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return f"{name}_" if keyword.iskeyword(name) else name


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.replace("\\", "\\\\").split():
        if line and len(indent) + len(line) + 1 + len(word) > width:
            lines.append(indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(indent + line)
    return lines


def _method(command: dict[str, Any]) -> list[str]:
    words = command["name"].upper()
    method = python_name(command["name"])
    required = [p for p in command["parameters"] if p["required"]]
    optional = [p for p in command["parameters"] if not p["required"]]
    signature = ["self"]
    signature += [f"{python_name(p['name'])}: AGIArgument" for p in required]
    signature += [f"{python_name(p['name'])}: AGIArgument = None" for p in optional]
    returns = "str | None" if command["name"] in VALUE_COMMANDS else "AGIResult"
    out = _call(f"    async def {method}(", signature, f") -> {returns}:")
    since = f" (since Asterisk {', '.join(command['since'])})" if command["since"] else ""
    out += _wrap(f'"""{command["synopsis"].rstrip(".")}.', "        ")
    out += ["", f"        Sends ``{words}``{since}."]
    for paragraph in command["description"]:
        out.append("")
        out += _wrap(paragraph, "        ")
    if command["parameters"]:
        out += ["", "        Args:"]
        for p in command["parameters"]:
            text = p["doc"] or ("Required." if p["required"] else "Optional.")
            wrapped = _wrap(f"{python_name(p['name'])}: {text}", "            ")
            out.append(wrapped[0])
            out += ["    " + w for w in wrapped[1:]]
    if optional:
        out += [
            "",
            "        An optional argument left as None also leaves out every later one.",
        ]
    out += [
        "",
        "        Returns:",
        "            The value, or None when there is none."
        if returns != "AGIResult"
        else "            Asterisk's answer.",
        "",
        "        Raises:",
        "            AGICommandFailed: Asterisk answered 510 or 520.",
        "            AGIHangup: The channel hung up.",
        '        """',
    ]
    args = []
    for p in command["parameters"]:
        name = python_name(p["name"])
        if "=" in p["name"]:
            prefix = p["name"].split("=", 1)[0]
            args.append(f'None if {name} is None else f"{prefix}={{{name}}}"')
        else:
            args.append(name)
    call = "self._value" if returns != "AGIResult" else "self._run"
    one_line = f"({', '.join(args)},)" if len(args) == 1 else f"({', '.join(args)})"
    line = f'        return await {call}("{words}", {one_line})'
    if len(line) <= LINE_LENGTH:
        out.append(line)
    else:
        out += [f"        return await {call}(", f'            "{words}",', "            ("]
        out += [f"                {a}," for a in args]
        out += ["            ),", "        )"]
    return out


def _call(opening: str, items: list[str], closing: str) -> list[str]:
    # One line if it fits, else one item per line with a trailing comma:
    # the layout ``ruff format`` keeps, so the generated module stays formatted.
    line = f"{opening}{', '.join(items)}{closing}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [opening, *(f"        {item}," for item in items), "    " + closing]


HEADER = '''"""Every AGI command Asterisk {asterisk} documents, as a typed method.

Generated from Asterisk's XML documentation by ``scripts/generate_agi.py``
(spec: ``scripts/agi_catalogue.json``); do not edit by hand. The methods live
on :class:`~amiasync.agi.AGI`, which implements ``_run`` and ``_value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .codec import AGIResult

__all__ = ["AGICommands", "AGIArgument", "COMMAND_NAMES"]

#: What a command argument may be; None leaves it (and every later one) out.
AGIArgument = Union[str, int, None]

#: Every documented command, as Asterisk spells it in its documentation.
COMMAND_NAMES = (
{names}
)


class AGICommands:
    """The typed AGI commands; ``_run`` and ``_value`` are the AGI object's."""

    __slots__ = ()

    async def _run(self, command: str, args: Sequence[AGIArgument]) -> AGIResult:
        raise NotImplementedError

    async def _value(self, command: str, args: Sequence[AGIArgument]) -> str | None:
        raise NotImplementedError'''


def render(spec: dict[str, Any]) -> str:
    names = "\n".join(f'    "{c["name"]}",' for c in spec["commands"])
    parts = [HEADER.format(asterisk=spec["asterisk"], names=names)]
    for command in spec["commands"]:
        parts.append("\n".join(["", *_method(command)]))
    return "\n".join(parts) + "\n"


# -- command line --------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate amiasync.agi.commands from Asterisk's XML."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="write the JSON spec from the XML")
    extract_cmd.add_argument("xml", type=Path, help="path to core-en_US.xml")
    extract_cmd.add_argument("--asterisk", help="the release (default: the committed spec's)")
    commands.add_parser("generate", help="write amiasync/agi/commands.py from the spec")
    check = commands.add_parser("check", help="exit 1 if the generated module (or spec) is stale")
    check.add_argument("--xml", type=Path, help="also check the spec against this XML")
    args = parser.parse_args(argv)

    if args.command == "extract":
        asterisk = args.asterisk or load_spec()["asterisk"]
        SPEC_PATH.write_text(dump_spec(extract(args.xml, asterisk)), encoding="utf-8")
        print(f"wrote {SPEC_PATH}")
        return 0
    spec = load_spec()
    if args.command == "generate":
        MODULE_PATH.write_text(render(spec), encoding="utf-8")
        print(f"wrote {MODULE_PATH}")
        return 0
    stale = []
    if MODULE_PATH.read_text(encoding="utf-8") != render(spec):
        stale.append(
            f"{MODULE_PATH} differs from the spec; run: python scripts/generate_agi.py generate"
        )
    if args.xml is not None and dump_spec(
        extract(args.xml, spec["asterisk"])
    ) != SPEC_PATH.read_text(encoding="utf-8"):
        stale.append(
            f"{SPEC_PATH} differs from {args.xml}; run: python scripts/generate_agi.py extract"
        )
    for problem in stale:
        print(problem, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
