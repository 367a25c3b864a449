"""The sans-IO AGI codec: recorded real exchanges, edge cases, properties. No sockets."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amiasync.agi.codec import (
    MAX_COMMAND_BYTES,
    AGIDecoder,
    AGIResult,
    Environment,
    Hangup,
    encode_command,
    parse_answer,
    parse_environment,
    parse_result,
    url_decode,
)
from amiasync.agi.errors import InvalidAGICommand
from amiasync.exceptions import AMIError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def decode_all(data: bytes, chunk: int | None = None) -> list[object]:
    decoder = AGIDecoder()
    events: list[object] = []
    if chunk is None:
        events += decoder.feed(data)
    else:
        for i in range(0, len(data), chunk):
            events += decoder.feed(data[i : i + chunk])
    assert decoder.errors == []
    return events


# -- recorded from Asterisk 22.10 (scripts/record_agi.py) ------------------------


def test_recorded_environment_keeps_every_key_colons_and_utf8() -> None:
    events = decode_all((FIXTURES / "agi-01-commands.agi").read_bytes())
    env = events[0]
    assert isinstance(env, Environment)
    variables = env.variables
    assert variables["agi_network"] == "yes"
    assert variables["agi_network_script"] == "ivr?lang=de&x=a%20b&empty="
    assert variables["agi_request"].startswith("agi://127.0.0.1:")
    assert variables["agi_calleridname"] == "Łukasz Żółć"
    assert variables["agi_accountcode"] == ""  # sent as "agi_accountcode: ", kept
    assert variables["agi_arg_1"] == "first arg"
    assert variables["agi_arg_2"] == "b:c"
    assert list(variables)[-2:] == ["agi_arg_1", "agi_arg_2"]
    assert len(variables) == 24


def test_recorded_answers_in_order() -> None:
    events = decode_all((FIXTURES / "agi-01-commands.agi").read_bytes())
    sent = (FIXTURES / "agi-01-commands.sent").read_text(encoding="utf-8").splitlines()
    results = events[1:]
    assert all(isinstance(r, AGIResult) for r in results)
    assert len(results) == len(sent)  # one answer per command, a 520 block as one
    by_command = dict(zip(sent, results))
    quoted = 'SET VARIABLE "AGI_RESULT" "ok: \\"quoted\\" and \\\\ and spaces"'
    assert by_command[quoted] == AGIResult(200, "1")
    assert by_command["GET VARIABLE AGI_RESULT"] == AGIResult(
        200, "1", 'ok: "quoted" and \\ and spaces'
    )
    assert by_command["GET VARIABLE NO_SUCH_VARIABLE"] == AGIResult(200, "0")
    assert by_command['GET FULL VARIABLE "${CHANNEL(language)}"'].data == "en"
    assert by_command['STREAM FILE no-such-file ""'] == AGIResult(200, "-1", "", 0)
    assert by_command["NO SUCH COMMAND"].code == 510
    usage = by_command["GET VARIABLE"]
    assert usage.code == 520 and usage.result == ""
    assert usage.data.startswith("Returns <literal>0</literal> if")
    assert usage.data.endswith("Example return code: 200 result=1 (testvariable)")
    assert usage.text.endswith("520 End of proper usage.")
    assert by_command["SET VARIABLE"].data == "Sets a variable to the current channel."
    assert by_command["GET VARIABLE UTF"].data == "Łukasz Żółć"


def test_recorded_hangup_comes_after_the_interrupted_answer() -> None:
    events = decode_all((FIXTURES / "agi-02-hangup.agi").read_bytes())
    assert isinstance(events[0], Environment)
    assert events[1:] == [
        AGIResult(200, "-1"),
        Hangup(),
        AGIResult(511),
        AGIResult(200, "1", "02-hangup"),
    ]


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_any_chunking_gives_the_same_events(chunk: int) -> None:
    for name in ("agi-01-commands.agi", "agi-02-hangup.agi"):
        data = (FIXTURES / name).read_bytes()
        assert decode_all(data, chunk) == decode_all(data)


def test_recorded_commands_are_what_the_encoder_writes() -> None:
    sent = (FIXTURES / "agi-01-commands.sent").read_text(encoding="utf-8").splitlines()
    assert encode_command("SET VARIABLE", ["AGI_RESULT", 'ok: "quoted" and \\ and spaces']) in sent
    assert encode_command("STREAM FILE no-such-file", [""]) in sent
    assert encode_command("SET VARIABLE", ["UTF", "Łukasz Żółć"]) in sent


def test_recorded_async_agi_env_and_results() -> None:
    data = (FIXTURES / "agi-04-async.ami").read_bytes().decode("utf-8")
    env_line = next(line for line in data.split("\r\n") if line.startswith("Env: "))
    env = parse_environment(url_decode(env_line[5:]))
    assert env["agi_request"] == "async"
    assert [env["agi_arg_1"], env["agi_arg_2"], env["agi_arg_3"]] == ["ivr", "a", "b c"]
    assert env["agi_accountcode"] == ""
    results = [
        parse_answer(url_decode(line[8:]))
        for line in data.split("\r\n")
        if line.startswith("Result: ") and "%" in line
    ]
    assert [r.code if r else None for r in results] == [200, 200, 520, 510, 200]
    assert results[0] == AGIResult(200, "1", "async1")
    assert results[2] is not None and results[2].data.startswith("Returns <literal>0")


# -- answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=0 (timeout)", AGIResult(200, "0", "timeout")),
        ("200 result= (timeout)", AGIResult(200, "", "timeout")),
        ("200 result=", AGIResult(200, "")),
        ("200 result=1 (a (b) c)", AGIResult(200, "1", "a (b) c")),
        ("200 result=1 (x) endpos=12345", AGIResult(200, "1", "x", 12345)),
        ("200 result=0 endpos=7", AGIResult(200, "0", "", 7)),
        ("200 result=1 (speech) score=500", AGIResult(200, "1", "(speech) score=500")),
        ("200 result=1 (not endpos=3)", AGIResult(200, "1", "not endpos=3")),
        ("511 Command Not Permitted on a dead channel or intercept routine", AGIResult(511)),
    ],
)
def test_parse_result(line: str, expected: AGIResult) -> None:
    result = parse_result(line)
    assert result == expected
    assert result is not None and result.text == line


@pytest.mark.parametrize("line", ["", "OK", "20 result=1", "200 foo", "abc result=1"])
def test_not_an_answer(line: str) -> None:
    assert parse_result(line) is None


def test_garbage_is_reported_and_decoding_goes_on() -> None:
    decoder = AGIDecoder()
    events = decoder.feed(b"agi_x: 1\n\nnonsense\r\n200 result=1\n\xff\xfe garbage\n200 result=2\n")
    assert events == [Environment({"agi_x": "1"}), AGIResult(200, "1"), AGIResult(200, "2")]
    assert len(decoder.errors) == 2
    assert "nonsense" in decoder.errors[0].message


def test_hangup_inside_a_usage_block_and_before_the_environment_ends() -> None:
    decoder = AGIDecoder()
    events = decoder.feed(b"a: 1\n\n520-Invalid\nusage one\nHANGUP\nusage two\n520 End.\n")
    assert events[1] == Hangup()
    assert events[2] == AGIResult(520, data="usage one\nusage two")


def test_latin1_fallback_is_lossless() -> None:
    raw = "caf\xe9".encode("latin-1")
    events = AGIDecoder().feed(b"agi_calleridname: " + raw + b"\n\n200 result=1 (" + raw + b")\n")
    env, result = events
    assert isinstance(env, Environment) and isinstance(result, AGIResult)
    assert env.variables["agi_calleridname"].encode("latin-1") == raw
    assert result.data.encode("latin-1") == raw


def test_oversized_line_is_skipped_and_the_stream_goes_on() -> None:
    decoder = AGIDecoder(max_line=100)
    events = decoder.feed(b"a: 1\n\n200 result=1 (" + b"x" * 300)
    events += decoder.feed(b"y" * 300 + b")\n200 result=2\n")
    assert events == [Environment({"a": "1"}), AGIResult(200, "2")]
    assert "longer than 100" in decoder.errors[0].message


def test_eof_inside_a_line_or_block_is_reported() -> None:
    decoder = AGIDecoder()
    decoder.feed(b"a: 1\n\n520-Invalid\npartial")
    problems = decoder.feed_eof()
    assert len(problems) == 2


def test_environment_without_space_and_colon_in_value() -> None:
    assert parse_environment("agi_x:\nagi_url: sip:1@h: x\n\nignored: 1") == {
        "agi_x": "",
        "agi_url": "sip:1@h: x",
    }


# -- commands ---------------------------------------------------------------------


def test_encode_quotes_and_escapes() -> None:
    assert encode_command("ANSWER") == "ANSWER"
    assert encode_command("SET VARIABLE", ["A B", 'say "hi"', "back\\slash", 5, ""]) == (
        'SET VARIABLE "A B" "say \\"hi\\"" "back\\\\slash" "5" ""'
    )
    # None ends the arguments: optional ones after it are left out too.
    assert encode_command("STREAM FILE", ["f", "", None, "x"]) == 'STREAM FILE "f" ""'


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\0b"])
def test_cr_lf_nul_refused(bad: str) -> None:
    with pytest.raises(InvalidAGICommand) as info:
        encode_command("SET VARIABLE", ["X", bad])
    assert isinstance(info.value, (AMIError, ValueError))
    with pytest.raises(InvalidAGICommand):
        encode_command(bad)


def test_too_long_or_empty_refused() -> None:
    with pytest.raises(InvalidAGICommand, match="longer"):
        encode_command("VERBOSE", ["x" * MAX_COMMAND_BYTES])
    with pytest.raises(InvalidAGICommand, match="empty"):
        encode_command("  ")


def parse_args(line: str) -> list[str]:
    """Asterisk's parse_args() (res/res_agi.c), re-stated to check the encoder against."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and current is None:
                current = []
                args.append("")
            continue
        if ch in " \t" and not quoted and not escaped:
            if current is not None:
                args[-1] = "".join(current)
            current = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if current is None:
            current = []
            args.append("")
        current.append(ch)
        escaped = False
    if current is not None:
        args[-1] = "".join(current)
    return args


text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)),
    max_size=40,
)


@given(st.lists(text, max_size=6))
def test_property_every_argument_survives_asterisks_parser(args: list[str]) -> None:
    line = encode_command("SET VARIABLE", args)
    assert parse_args(line) == ["SET", "VARIABLE", *args]


@given(
    st.dictionaries(
        st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12),
        text.filter(lambda v: "\n" not in v),
        max_size=8,
    ),
    st.lists(st.sampled_from(["200 result=1 (x)", "HANGUP", "510 Invalid", "200 result=-1"])),
    st.integers(min_value=1, max_value=17),
)
def test_property_environment_and_answers_survive_any_chunking(
    env: dict[str, str], answers: list[str], chunk: int
) -> None:
    data = "".join(f"{k}: {v}\n" for k, v in env.items()) + "\n"
    data += "".join(f"{a}\n" for a in answers)
    events = decode_all(data.encode("utf-8"), chunk)
    assert events[0] == Environment(env)
    assert len(events) == 1 + len(answers)
    assert [isinstance(e, Hangup) for e in events[1:]] == [a == "HANGUP" for a in answers]


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_property_any_bytes_never_raise(data: bytes, chunk: int) -> None:
    decoder = AGIDecoder(max_line=64)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
    decoder.feed_eof()


def test_unicode_digits_are_not_codes_or_argument_numbers() -> None:
    from amiasync.agi.session import arguments

    assert parse_result("²00 result=1") is None
    assert parse_result("200 result=1 endpos=²") == AGIResult(200, "1", "endpos=²")
    assert arguments({"agi_arg_²": "x", "agi_arg_2": "b", "agi_arg_1": "a"}) == ["a", "b"]


@given(st.lists(text, max_size=8), st.integers(min_value=1, max_value=9))
def test_property_any_text_lines_never_raise(lines: list[str], chunk: int) -> None:
    data = ("\n".join(["a: 1", "", *lines]) + "\n").encode("utf-8")
    decoder = AGIDecoder(max_line=32)
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk])
