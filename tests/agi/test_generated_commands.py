"""The generated AGI commands (scripts/generate_agi.py): fresh, complete, callable."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from amiasync.agi import AGI
from amiasync.agi.commands import COMMAND_NAMES, AGICommands

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_agi.py"
XML = Path(
    os.environ.get("AMI_ASTERISK_XML")
    or os.environ.get("AMI_SANDBOX_ROOT", "/var/cache/amiasync/asterisk-sid")
    + "/usr/share/asterisk/documentation/core-en_US.xml"
)


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_agi", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()
SPEC = generator.load_spec()


def test_committed_module_matches_the_spec() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_spec_matches_asterisks_xml() -> None:
    if not XML.is_file():
        reason = f"Asterisk's core-en_US.xml not found at {XML} (set AMI_ASTERISK_XML)"
        if os.environ.get("AMI_REQUIRE_INTEGRATION") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    spec = generator.extract(XML, SPEC["asterisk"])
    assert generator.dump_spec(spec) == generator.SPEC_PATH.read_text(encoding="utf-8")
    assert len(spec["commands"]) == 47  # Asterisk 22.10.1 documents 47 <agi> elements


def test_every_command_is_a_documented_method() -> None:
    assert list(COMMAND_NAMES) == [c["name"] for c in SPEC["commands"]]
    for command in SPEC["commands"]:
        method = getattr(AGI, generator.python_name(command["name"]))
        assert inspect.iscoroutinefunction(method)
        assert method.__doc__ and command["name"].upper() in method.__doc__
        parameters = list(inspect.signature(method).parameters)[1:]
        assert parameters == [generator.python_name(p["name"]) for p in command["parameters"]]
    assert issubclass(AGI, AGICommands)


class Recorder(AGICommands):
    """Records what the generated methods ask for, without any link."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    async def _run(self, command, args):  # type: ignore[no-untyped-def]
        self.calls.append((command, tuple(args)))

    async def _value(self, command, args):  # type: ignore[no-untyped-def]
        self.calls.append((command, tuple(args)))
        return "v"


async def test_methods_send_their_words_and_arguments() -> None:
    agi = Recorder()
    await agi.answer()
    await agi.stream_file("welcome", "#", sample_offset=8000)
    await agi.record_file("msg", "wav", "#", -1, silence=3)
    assert await agi.get_variable("FOO") == "v"
    await agi.set_music("on", "default")
    assert agi.calls == [
        ("ANSWER", ()),
        ("STREAM FILE", ("welcome", "#", 8000)),
        ("RECORD FILE", ("msg", "wav", "#", -1, None, None, "s=3")),
        ("GET VARIABLE", ("FOO",)),
        ("SET MUSIC", ("on", "default")),
    ]


@pytest.mark.parametrize(
    ("name", "python"),
    [("sample offset", "sample_offset"), ("s=silence", "silence"), ("class", "class_")],
)
def test_python_names(name: str, python: str) -> None:
    assert generator.python_name(name) == python
