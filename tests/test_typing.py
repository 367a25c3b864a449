"""The typed surface, checked by mypy itself: tests/typing/checked_*.py under ``--strict``.

``checked_ok.py`` must pass (its ``assert_type`` calls prove the inferred types);
in ``checked_errors.py`` exactly the lines marked ``# error: CODE`` must fail.
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

HERE = Path(__file__).resolve().parent / "typing"


def _mypy(path: Path) -> tuple[str, int]:
    stdout, stderr, status = api.run(
        ["--strict", "--no-error-summary", "--show-error-codes", "--no-incremental", str(path)]
    )
    return stdout + stderr, status


def test_typed_streams_callbacks_and_actions_pass_strict_mypy() -> None:
    output, status = _mypy(HERE / "checked_ok.py")
    assert status == 0, output


def test_typos_and_wrong_handlers_fail_strict_mypy() -> None:
    path = HERE / "checked_errors.py"
    output, _ = _mypy(path)
    expected = {
        number: match.group(1)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if (match := re.search(r"# error: ([\w-]+)$", line))
    }
    found: dict[int, set[str]] = {}
    for match in re.finditer(rf"{re.escape(path.name)}:(\d+): error: .*\[([\w-]+)\]", output):
        found.setdefault(int(match.group(1)), set()).add(match.group(2))
    assert set(found) == set(expected), output
    for number, code in expected.items():
        assert code in found[number], output
