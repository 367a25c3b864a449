"""The sans-IO codec against real Asterisk 22 bytes, chunked every way."""

from __future__ import annotations

import random

import pytest

from amiasync import core
from amiasync.events import EVENT_CLASSES
from amiasync.exceptions import FrameTooLarge, InvalidAction, ProtocolError
from amiasync.frames import FrameDecoder
from amiasync.message import Action, Event, Message, Response

from .conftest import FIXTURES

TRANSCRIPTS = sorted(FIXTURES.glob("0*.ami"))


def reference_parse(data: bytes) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    """A deliberately plain second reading of a transcript, to check the decoder against."""
    banner, _, rest = data.partition(b"\r\n")
    messages = []
    for frame in rest.split(b"\r\n\r\n"):
        if not frame:
            continue
        pairs = []
        for line in frame.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(": ")
            pairs.append((key, value.rstrip("\n")))
        kind = "event" if pairs[0][0] == "Event" else "response"
        messages.append((kind, pairs))
    return banner.decode(), messages


def as_tuples(messages: list[Message]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [("event" if isinstance(m, Event) else "response", m.headers) for m in messages]


def decode_in_chunks(
    decoder_class: type[FrameDecoder], data: bytes, sizes: list[int]
) -> tuple[FrameDecoder, list[Message]]:
    decoder = decoder_class(event_classes=EVENT_CLASSES)
    out: list[Message] = []
    position = 0
    for size in sizes:
        out += decoder.feed(data[position : position + size])
        position += size
    out += decoder.feed(data[position:])
    return decoder, out


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_decodes_to_exactly_its_messages(path, decoder_class):
    data = path.read_bytes()
    banner, expected = reference_parse(data)
    decoder = decoder_class(event_classes=EVENT_CLASSES)
    messages = decoder.feed(data)
    assert decoder.banner == banner == "Asterisk Call Manager/11.0.0"
    assert decoder.version == "11.0.0"
    assert as_tuples(messages) == expected
    assert decoder.errors == [] and decoder.buffered == 0


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_one_byte_at_a_time_and_random_chunks(path, decoder_class):
    data = path.read_bytes()
    whole = decoder_class(event_classes=EVENT_CLASSES).feed(data)
    _, bytewise = decode_in_chunks(decoder_class, data, [1] * len(data))
    assert bytewise == whole
    rng = random.Random(path.name)
    for _ in range(20):
        sizes = [rng.randint(1, 700) for _ in range(len(data) // 50 + 1)]
        _, chunked = decode_in_chunks(decoder_class, data, sizes)
        assert chunked == whole


def test_transcript_facts(decoder_class):
    messages = decoder_class(event_classes=EVENT_CLASSES).feed(
        (FIXTURES / "05-call-lifecycle.ami").read_bytes()
    )
    originate = [
        m for m in messages if isinstance(m, Event) and m.event_name == "OriginateResponse"
    ]
    # OriginateResponse carries a Response header but is an event: classified by its first line.
    assert len(originate) == 1 and originate[0]["Response"] == "Success"
    assert type(originate[0]) is EVENT_CLASSES["OriginateResponse"]
    assert any(m.get("CallerIDName") == "Łukasz Żółć" for m in messages)
    commands = decoder_class().feed((FIXTURES / "04-command.ami").read_bytes())
    listing = next(m for m in commands if m.action_id == "cmd-3")
    assert isinstance(listing, Response) and len(listing.output) == 10
    assert listing.output[8] == "" and listing.output[-1].startswith("-= 2 extensions")
    failed = next(m for m in commands if m.action_id == "cmd-2")
    assert not failed.success and failed.output[0].startswith("No such command")


def test_repeated_headers_kept_in_order(decoder_class):
    messages = decoder_class().feed((FIXTURES / "07-chanvars-userevent.ami").read_bytes())
    with_vars = [m for m in messages if m.get_all("ChanVariable")]
    assert with_vars
    assert [v.split("=")[0] for v in with_vars[0].get_all("ChanVariable")] == ["ALPHA", "BETA"]
    user = next(m for m in messages if isinstance(m, Event) and m.event_name == "UserEvent")
    assert len(user.get_all("Item")) >= 2
    assert user.get_all("item") == user.get_all("Item")  # keys are case-insensitive


def test_utf8_character_split_across_reads_arrives_whole(decoder_class):
    frame = "Event: Newchannel\r\nCallerIDName: Łukasz Żółć 王小明\r\n\r\n".encode()
    for cut in range(len(frame)):
        decoder = decoder_class(expect_banner=False)
        got = decoder.feed(frame[:cut]) + decoder.feed(frame[cut:])
        assert [m["CallerIDName"] for m in got] == ["Łukasz Żółć 王小明"]


def test_latin1_bytes_are_kept_without_loss(decoder_class):
    frame = b"Event: Newchannel\r\nCallerIDName: Jos\xe9 M\xfcller\r\nExten: 100\r\n\r\n"
    [message] = decoder_class(expect_banner=False).feed(frame)
    assert message["CallerIDName"] == "José Müller"
    assert message["Exten"] == "100"
    assert message.raw == frame[:-4]
    assert message["CallerIDName"].encode("latin-1") == b"Jos\xe9 M\xfcller"


def test_bare_newline_in_value_and_lines_without_colon(decoder_class):
    data = b"Response: Error\r\nActionID: 1\r\nMessage: No endpoints found\n\r\nodd line\r\n\r\n"
    [message] = decoder_class(expect_banner=False).feed(data)
    assert message.message == "No endpoints found"
    assert message.get_all("") == ["odd line"]


def test_legacy_command_output_becomes_output_headers(decoder_class):
    decoder = decoder_class(event_classes=EVENT_CLASSES)
    messages = decoder.feed((FIXTURES / "legacy-command.ami").read_bytes())
    assert decoder.version == "1.3"
    response, booted = messages
    assert isinstance(response, Response) and response.success
    assert response.action_id == "cmd-legacy"
    assert response.output == [
        "Channel              Location             State   Application(Data)",
        "",
        "0 active channels",
        "0 active calls",
    ]
    assert booted.event_name == "FullyBooted"


def test_legacy_output_with_crlf_blank_lines_waits_for_the_end_marker(decoder_class):
    data = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n"
        b"first\r\n\r\nsecond\r\n--END COMMAND--\r\n\r\nEvent: Ping\r\n\r\n"
    )
    for cut in range(len(data)):
        decoder = decoder_class(expect_banner=False)
        got = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert [m.get_all("Output") for m in got] == [["first", "", "second"], []], cut


def test_oversized_frame_is_reported_and_the_stream_goes_on(decoder_class):
    big = b"Event: Big\r\nData: " + b"x" * 5000 + b"\r\n\r\n"
    data = b"Event: A\r\n\r\n" + big + b"Event: B\r\n\r\n"
    for size in (1, 7, 100, 4096, len(data)):
        decoder = decoder_class(expect_banner=False, max_frame_size=1000)
        got = []
        for i in range(0, len(data), size):
            got += decoder.feed(data[i : i + size])
        assert [m.event_name for m in got] == ["A", "B"], size
        errors = decoder.take_errors()
        assert len(errors) == 1 and isinstance(errors[0], FrameTooLarge)


def test_garbage_before_banner_and_malformed_frames_are_reported(decoder_class):
    decoder = decoder_class()
    got = decoder.feed(b"hello there\r\nAsterisk Call Manager/11.0.0\r\nnonsense\r\n\r\n")
    got += decoder.feed(b"Event: Fine\r\n\r\n\r\nEvent: AfterBlank\r\n\r\n")
    assert decoder.banner == "Asterisk Call Manager/11.0.0"
    assert [m.event_name for m in got] == ["Fine", "AfterBlank"]
    errors = decoder.take_errors()
    assert len(errors) == 2 and all(isinstance(e, ProtocolError) for e in errors)


def test_case_insensitive_first_key_is_still_classified(decoder_class):
    [message] = decoder_class(expect_banner=False).feed(b"event:Odd\r\nkey: v\r\n\r\n")
    assert isinstance(message, Event) and message.event_name == "Odd" and message["KEY"] == "v"


@pytest.mark.parametrize(
    ("name", "action", "action_id"),
    [
        ("01-login-md5", core.Challenge(), "ch-1"),
        (
            "01-login-md5",
            core.Login("admin", "wordpass", challenge="176470932", events=True),
            "login-1",
        ),
        ("01-login-md5", core.Logoff(), "bye-1"),
        ("04-command", core.Command("core show uptime"), "cmd-1"),
        ("02-login-plain-events-off", core.Login("admin", "wordpass", events=False), "login-1"),
    ],
)
def test_actions_encode_to_the_bytes_a_real_session_sent(name, action, action_id):
    sent = (FIXTURES / f"{name}.sent").read_bytes()
    encoded = action.encode(action_id)
    assert encoded in sent


def test_md5_key_matches_asterisk():
    # transcripts/01: challenge 176470932, secret "wordpass", accepted by Asterisk 22.
    assert core.md5_key("176470932", "wordpass") == "4fcb0cc80e1b18ddb5ebc51841195f47"


def test_action_headers_lists_mappings_and_booleans():
    action = Action(
        "Originate",
        Channel="Local/100@amitest",
        Variable={"A": 1, "B": "two"},
        Async=True,
        Codecs=["ulaw", "alaw"],
        Data=None,
    )
    assert action.encode("x") == (
        b"Action: Originate\r\nChannel: Local/100@amitest\r\nVariable: A=1\r\nVariable: B=two\r\n"
        b"Async: true\r\nCodecs: ulaw\r\nCodecs: alaw\r\nActionID: x\r\n\r\n"
    )
    assert Action("X", [("Weird-Key", "v")]).headers == (("Weird-Key", "v"),)


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\x00b", "x\r\n\r\nAction: Originate"])
def test_cr_lf_nul_refused_in_values_keys_and_action_ids(bad):
    with pytest.raises(InvalidAction):
        Action("UserEvent", UserEvent=bad)
    with pytest.raises(InvalidAction):
        Action("UserEvent", [(bad, "v")])
    with pytest.raises(InvalidAction):
        Action(bad)
    with pytest.raises(InvalidAction):
        core.Ping().encode(bad)
    with pytest.raises(InvalidAction):
        core.Ping(action_id=bad)


def test_secrets_never_in_reprs_or_errors(decoder_class):
    login = core.Login("admin", "hunter2-secret")
    md5 = core.Login("admin", "hunter2-secret", challenge="123")
    assert "hunter2" not in repr(login) and md5.get("Key") not in repr(md5)
    with pytest.raises(InvalidAction) as info:
        core.Login("admin", "hunter2\r\nAction: Originate")
    assert "hunter2" not in str(info.value)
    incoming = decoder_class(expect_banner=False).feed(
        b"Response: Success\r\nSecret: topsecret\r\n\r\n"
    )
    assert "topsecret" not in repr(incoming[0])


def test_long_action_id_refused():
    with pytest.raises(InvalidAction):
        core.Ping().encode("x" * 101)


def test_message_round_trip_and_mapping_interface(decoder_class):
    message = Message.from_headers([("Response", "Success"), ("Output", ["a", "b"])])
    [decoded] = decoder_class(expect_banner=False).feed(message.encode())
    assert decoded.headers == message.headers
    assert dict(decoded) == {"Response": "Success", "Output": "a"}
    assert "output" in decoded and "Missing" not in decoded and len(decoded) == 2
