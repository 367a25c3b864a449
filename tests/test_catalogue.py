"""The generated action and event catalogue (scripts/generate_catalogue.py).

The spec (scripts/catalogue.json) is checked against Asterisk's own XML when it
is available: set ``AMI_ASTERISK_XML`` to a ``core-en_US.xml`` (``eval "$(bash
scripts/asterisk-sandbox.sh env)"`` does), or ``AMI_SANDBOX_DIR`` to the sandbox
chroot, or build the chroot in its default place (scripts/asterisk-sandbox.sh).
With ``AMI_REQUIRE_INTEGRATION=1`` a missing XML fails these tests instead of
skipping them.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pydoc
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from amiasync import actions, core, core_events, events
from amiasync.catalogue import DocumentedAction, header
from amiasync.events import EVENT_CLASSES
from amiasync.exceptions import InvalidAction, ManagerAuthError
from amiasync.frames import FrameDecoder
from amiasync.message import Action, Event, Response

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "generate_catalogue.py"
SPEC_PATH = ROOT / "scripts" / "catalogue.json"
XML_IN_SANDBOX = "usr/share/asterisk/documentation/core-en_US.xml"
DEFAULT_XML = Path("/var/cache/amiasync/asterisk-sid") / XML_IN_SANDBOX

#: Per Asterisk release: <manager> elements, distinct actions, <managerEvent>
#: elements, distinct events. Names repeat: the voicemail actions and events
#: are documented once per app_voicemail flavour, VarSet by three modules.
EXPECTED_COUNTS = {"22.10.1": (168, 154, 185, 181)}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_catalogue", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()
SPEC: dict[str, Any] = generator.load_spec(SPEC_PATH)


def _xml_candidate() -> Path:
    """AMI_ASTERISK_XML (``asterisk-sandbox.sh env`` exports it), else the chroot's copy."""
    if os.environ.get("AMI_ASTERISK_XML"):
        return Path(os.environ["AMI_ASTERISK_XML"])
    sandbox = os.environ.get("AMI_SANDBOX_ROOT") or os.environ.get("AMI_SANDBOX_DIR")
    if sandbox:
        return Path(sandbox) / XML_IN_SANDBOX
    return DEFAULT_XML


@pytest.fixture(scope="module")
def xml_path() -> Path:
    path = _xml_candidate()
    if path.is_file():
        return path
    reason = f"Asterisk's core-en_US.xml not found at {path} (set AMI_ASTERISK_XML)"
    if os.environ.get("AMI_REQUIRE_INTEGRATION") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _action_classes() -> list[type[DocumentedAction]]:
    return [getattr(actions, name) for name in actions.__all__]


# -- the generator -------------------------------------------------------------


def test_generated_modules_match_the_committed_spec() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_extracting_the_xml_gives_the_committed_spec(xml_path: Path) -> None:
    spec = generator.extract(xml_path, None, SPEC["asterisk"])
    assert generator.dump_spec(spec) == SPEC_PATH.read_text(encoding="utf-8")


def test_counts_match_the_xml(xml_path: Path) -> None:
    root = ET.parse(xml_path).getroot()
    managers = list(root.iter("manager"))
    manager_events = list(root.iter("managerEvent"))
    assert SPEC["elements"] == {"manager": len(managers), "managerEvent": len(manager_events)}
    assert len(SPEC["actions"]) == len({m.get("name") for m in managers})
    assert len(SPEC["events"]) == len({e.get("name") for e in manager_events})


def test_snapshot_headers_come_from_the_stylesheet(xml_path: Path) -> None:
    templates = generator.read_snapshot_templates(xml_path.with_name("appdocsxml.xslt"))
    names = [h["name"] for h in templates["channel_snapshot"]]
    assert names[:3] == ["Channel", "ChannelState", "ChannelStateDesc"]
    assert "Down" in templates["channel_snapshot"][2]["enum"]
    assert "related to ChannelStateDesc" in templates["channel_snapshot"][1]["text"]
    assert "BridgeUniqueid" in [h["name"] for h in templates["bridge_snapshot"]]


def test_counts_match_the_spec() -> None:
    assert len(_action_classes()) == len(SPEC["actions"])
    assert all(issubclass(cls, DocumentedAction) for cls in _action_classes())
    assert len(EVENT_CLASSES) == len(SPEC["events"])
    mixins = {n for n in events.__all__ if n.endswith("Snapshot")}
    assert len(events.__all__) == len(SPEC["events"]) + 1 + len(mixins)  # and EVENT_CLASSES
    expected = EXPECTED_COUNTS.get(SPEC["asterisk"])
    if expected is not None:
        elements = SPEC["elements"]
        assert (
            elements["manager"],
            len(SPEC["actions"]),
            elements["managerEvent"],
            len(SPEC["events"]),
        ) == expected


def test_spec_layout() -> None:
    for action in SPEC["actions"]:
        assert set(action) == {"name", "modules", "since", "synopsis", "parameters"}
        for p in action["parameters"]:
            assert {"name", "required"} <= set(p) <= {"name", "required", "text", "default", "enum"}
        assert all(p["name"].lower() != "actionid" for p in action["parameters"])
    for event in SPEC["events"]:
        assert set(event) == {"name", "modules", "since", "synopsis", "headers"}
        for h in event["headers"]:
            assert set(h) in ({"snapshot", "prefix"},) or {"name"} <= set(h) <= {
                "name",
                "text",
                "enum",
            }
    names = [a["name"] for a in SPEC["actions"]]
    assert names == sorted(names, key=lambda n: (n.lower(), n))


@pytest.mark.parametrize(
    ("header", "python"),
    [
        ("CallerID", "caller_id"),
        ("CallerIDNum", "caller_id_num"),
        ("EarlyMedia", "early_media"),
        ("ChannelStateDesc", "channel_state_desc"),
        ("ConnectedLineNum", "connected_line_num"),
        ("BridgeUniqueid", "bridge_uniqueid"),
        ("AOCBillingId", "aoc_billing_id"),
        ("DAHDIChannel", "dahdi_channel"),
        ("Channel1", "channel1"),
        ("T38Mode", "t38_mode"),
        ("Async", "async_"),
        ("Cause-txt", "cause_txt"),
        ("UnitAmount(0)", "unit_amount_0"),
        ("Action-000000", "action_000000"),
        ("100rel", "h_100rel"),
    ],
)
def test_python_names(header: str, python: str) -> None:
    assert generator.python_name(header) == python


def _spec_headers(event: dict[str, Any]) -> list[str]:
    names = []
    for item in event["headers"]:
        if "snapshot" in item:
            names += [item["prefix"] + h["name"] for h in SPEC["snapshots"][item["snapshot"]]]
        else:
            names.append(item["name"])
    return names


def test_every_name_follows_the_one_rule_without_collisions() -> None:
    # The rule lives in the generator; every parameter and accessor is its output.
    for action in SPEC["actions"]:
        cls = getattr(actions, generator.class_name(action["name"], frozenset()))
        expected = {}
        for p in action["parameters"]:
            name = generator.python_name(p["name"])
            while name in generator.RESERVED_ACTION_PARAMETERS:
                name += "_"
            expected[name] = p["name"]
        assert cls.parameters == expected, action["name"]
        assert len(set(cls.parameters)) == len(action["parameters"])
    for event in SPEC["events"]:
        cls = EVENT_CLASSES[event["name"]]
        accessors = {}
        for base in reversed(cls.__mro__):
            accessors.update({k: v.key for k, v in vars(base).items() if isinstance(v, header)})
        headers = [h for h in _spec_headers(event) if h.lower() != "actionid"]
        unique = list({h.lower(): h for h in headers}.values())
        assert sorted(accessors.values(), key=str.lower) == sorted(unique, key=str.lower)
        for attribute, key in accessors.items():
            name = generator.python_name(key)
            if name in generator.RESERVED_EVENT_ATTRIBUTES:
                name = name.rstrip("_") + "_header"
            assert attribute == name, (event["name"], key)


def test_xpointer_subset() -> None:
    root = ET.fromstring(
        "<docs><managerEvent name='A'><managerEventInstance><syntax>"
        "<parameter name='X1'/><parameter name='Y'/><parameter name='X2'/>"
        "</syntax></managerEventInstance></managerEvent></docs>"
    )
    base = "/docs/managerEvent[@name='A']/managerEventInstance/syntax/parameter"
    select = generator.resolve_xpointer
    assert [e.get("name") for e in select(root, f"xpointer({base})")] == ["X1", "Y", "X2"]
    found = select(root, f"xpointer({base}[contains(@name, 'X')])")
    assert [e.get("name") for e in found] == ["X1", "X2"]
    assert [e.get("name") for e in select(root, f"xpointer({base.lstrip('/')}[2])")] == ["Y"]
    assert select(root, "xpointer(/docs/managerEvent[@name='B']/syntax)") == []


# -- actions -------------------------------------------------------------------


def test_every_action_class_is_documented_and_constructible() -> None:
    by_name = {a["name"]: a for a in SPEC["actions"]}
    for cls in _action_classes():
        entry = by_name[cls.name]
        assert issubclass(cls, Action)
        assert cls.module == ", ".join(entry["modules"])
        assert cls.since == ", ".join(entry["since"])
        assert cls.required == tuple(p["name"] for p in entry["parameters"] if p["required"])
        assert sorted(cls.parameters.values()) == sorted(p["name"] for p in entry["parameters"])
        # Every parameter, by its Python name, lands on its header.
        signature = inspect.signature(cls)
        values: dict[str, Any] = {py: f"v-{py}" for py in cls.parameters}
        positional = [
            values.pop(p.name)
            for p in signature.parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
        ]
        action = cls(*positional, **values)
        assert action.action_name == cls.name
        sent = dict(action.headers)
        for py, key in cls.parameters.items():
            assert sent[key] == f"v-{py}"
            # The field reads back what was sent.
            assert getattr(action, py) == f"v-{py}"


def test_a_required_parameter_cannot_be_none() -> None:
    with pytest.raises(InvalidAction, match=r"^Originate needs Channel$"):
        actions.Originate(None)
    with pytest.raises(InvalidAction, match=r"^AbsoluteTimeout needs Timeout$"):
        actions.AbsoluteTimeout("PJSIP/100-0001", None)
    with pytest.raises(InvalidAction, match=r"^Challenge needs AuthType$"):
        actions.Challenge(None)
    with pytest.raises(TypeError):
        actions.Originate()  # type: ignore[call-arg]
    # The header may also come as an extra header.
    assert actions.Originate(None, extra_headers={"Channel": "Local/1@x"}).get("Channel") == (
        "Local/1@x"
    )


def test_optional_parameters_map_to_their_headers() -> None:
    action = actions.Originate("Local/100@x", async_=True, caller_id="Me <1>", codecs=["ulaw"])
    assert ("Async", "true") in action.headers
    assert ("CallerID", "Me <1>") in action.headers
    assert ("Codecs", "ulaw") in action.headers
    assert actions.Originate.parameters["async_"] == "Async"
    assert actions.Originate.required == ("Channel",)
    assert actions.Originate.module == "builtin"
    # None leaves a header out; undocumented headers go through extra_headers.
    assert actions.Originate("Local/100@x", exten=None, extra_headers={"Foo": "bar"}).headers == (
        ("Channel", "Local/100@x"),
        ("Foo", "bar"),
    )
    assert actions.PJSIPNotify(endpoint=None, uri="sip:x").headers == (("URI", "sip:x"),)
    assert actions.UpdateConfig("a", "b", action_000000="NewCat").get("Action-000000") == "NewCat"


def test_call_shapes_the_core_depends_on() -> None:
    assert actions.Challenge().headers == (("AuthType", "MD5"),)
    assert core.Login("admin", "pw", events=False).headers == (
        ("Username", "admin"),
        ("Secret", "pw"),
        ("Events", "off"),
    )
    assert core.Login("admin", "pw", challenge="1").headers == (
        ("AuthType", "MD5"),
        ("Username", "admin"),
        ("Key", core.md5_key("1", "pw")),
    )
    assert core.Login is actions.Login and core.Originate is actions.Originate
    assert actions.Login("admin", "pw", events=["call", "system"]).get("Events") == "call,system"
    assert actions.Command("core show uptime").headers == (("Command", "core show uptime"),)
    assert actions.Events("off").headers == (("EventMask", "off"),)
    assert actions.Filter("Event: Newchannel").headers == (
        ("Operation", "Add"),
        ("Filter", "Event: Newchannel"),
    )
    assert actions.Status().headers == ()
    assert actions.Status("PJSIP/1-01").headers == (("Channel", "PJSIP/1-01"),)
    assert actions.UserEvent("Hello", extra_headers={"Foo": "bar"}).headers == (
        ("UserEvent", "Hello"),
        ("Foo", "bar"),
    )
    assert actions.CoreShowChannels().headers == ()
    assert actions.Logoff().encode("1") == b"Action: Logoff\r\nActionID: 1\r\n\r\n"
    assert actions.Ping(action_id="p").action_id == "p"


# -- events --------------------------------------------------------------------


def test_every_event_class_is_listed() -> None:
    spec_names = {e["name"] for e in SPEC["events"]}
    assert set(EVENT_CLASSES) == spec_names
    for name, cls in EVENT_CLASSES.items():
        assert issubclass(cls, Event) and cls.name == name
        assert getattr(events, cls.__name__) is cls
        assert cls.__name__ in events.__all__
    assert events.AOC_D.name == "AOC-D"


def test_accessors_never_hide_event_attributes() -> None:
    inherited = set(dir(Event))
    for cls in EVENT_CLASSES.values():
        accessors = {k for k, v in vars(cls).items() if isinstance(v, header)}
        assert not accessors & inherited, cls.name


def test_typed_events_are_decoded_with_accessors() -> None:
    decoder = FrameDecoder(event_classes=EVENT_CLASSES, expect_banner=False)
    data = (
        b"Event: DialEnd\r\nPrivilege: call,all\r\nChannel: PJSIP/100-01\r\n"
        b"DestChannel: PJSIP/200-02\r\nDialStatus: ANSWER\r\n\r\n"
        b"Event: Hangup\r\nChannel: PJSIP/100-01\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
        b"Event: AOC-D\r\nName: x\r\n\r\n"
        b"Event: SomethingNew\r\nChannel: PJSIP/9\r\nX-Extra: 1\r\n\r\n"
    )
    dial, hangup, aoc, unknown = decoder.feed(data)
    assert isinstance(dial, events.DialEnd)
    assert (dial.channel, dial.dest_channel, dial.dial_status) == (
        "PJSIP/100-01",
        "PJSIP/200-02",
        "ANSWER",
    )
    assert dial.forward is None
    assert isinstance(hangup, events.Hangup) and hangup.cause_txt == "Normal Clearing"
    assert type(aoc) is events.AOC_D and aoc.name_header == "x" and aoc.name == "AOC-D"
    assert type(unknown) is Event and unknown.event_name == "SomethingNew"
    assert unknown.headers == [("Event", "SomethingNew"), ("Channel", "PJSIP/9"), ("X-Extra", "1")]


def test_core_events_keep_their_accessors() -> None:
    booted = core_events.FullyBooted.from_headers(Status="Fully Booted", Uptime="5", LastReload="5")
    assert (booted.status, booted.uptime, booted.last_reload) == ("Fully Booted", "5", "5")
    shutdown = core_events.Shutdown.from_headers(Shutdown="Cleanly", Restart="False")
    assert (shutdown.shutdown, shutdown.restart) == ("Cleanly", "False")
    response = core_events.OriginateResponse.from_headers(
        Response="Success", Channel="Local/1@x", Reason="4", Uniqueid="1.2"
    )
    assert (response.response, response.channel, response.reason, response.uniqueid) == (
        "Success",
        "Local/1@x",
        "4",
        "1.2",
    )


# -- what a user meets -----------------------------------------------------------


def test_a_typo_is_refused_with_the_closest_parameters() -> None:
    with pytest.raises(TypeError, match=r"'extension'; did you mean 'exten'\?"):
        actions.Originate("PJSIP/1", caller_id="x", extension="200")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"'variables'; did you mean 'variable'\?"):
        actions.Originate("PJSIP/1", variables={"A": "1"})  # type: ignore[call-arg]
    # The squashed and the AMI spellings of a header point to its Python name.
    for typo in ("callerid", "CallerID"):
        with pytest.raises(TypeError, match=r"did you mean 'caller_id'"):
            actions.Originate("PJSIP/1", **{typo: "x"})
    with pytest.raises(TypeError, match=r"extra_headers"):
        actions.Ping(Foo="bar")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"takes 1 positional arguments but 2"):
        actions.Originate("PJSIP/1", "200")  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"multiple values for argument 'channel'"):
        actions.Originate("PJSIP/1", channel="PJSIP/2")  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"missing required argument: 'username'"):
        actions.Login()  # type: ignore[call-arg]
    # The generic Action still takes any header.
    assert Action("Originate", Extension="200").get("Extension") == "200"


def test_help_shows_the_documented_parameters() -> None:
    text = pydoc.render_doc(actions.Originate, renderer=pydoc.plaintext)
    assert "Originate a call." in text
    assert "Originate(channel, *, exten=None, context=None" in text
    assert "timeout: How long to wait for call to be answered (in ms.)" in text
    assert "Asterisk's default: ``30000``" in text
    assert "since Asterisk 0.2.0" in text
    assert "https://docs.asterisk.org/Asterisk_22_Documentation/" in text
    assert str(inspect.signature(actions.Login)).startswith("(username, secret, challenge=None, *")
    hangup = pydoc.render_doc(events.Hangup, renderer=pydoc.plaintext)
    assert "cause_txt: A description of why the channel was hung up." in hangup


def test_every_class_documents_its_parameters_version_and_page() -> None:
    for entry in SPEC["actions"]:
        cls = getattr(actions, generator.class_name(entry["name"], frozenset()))
        doc = cls.__doc__ or ""
        assert f"/AMI_Actions/{entry['name']}/" in doc
        assert all(f"        {py}: " in doc for py in cls.parameters), entry["name"]
        if entry["since"]:
            assert f"since Asterisk {entry['since'][0]}" in doc
    for entry in SPEC["events"]:
        doc = EVENT_CLASSES[entry["name"]].__doc__ or ""
        assert f"/AMI_Events/{entry['name']}/" in doc


def test_enumerated_values_are_literal_types() -> None:
    hints = actions.Login.__annotations__
    assert hints["auth_type"].replace("'", '"') == 'Literal["plain", "MD5"] | None'
    assert actions.Redirect.__annotations__["channel"] == "HeaderValue"


def test_snapshot_headers_are_shared_mixins() -> None:
    assert issubclass(events.Hangup, events.ChannelSnapshot)
    assert issubclass(events.DialBegin, events.DestChannelSnapshot)
    assert "channel_state_desc" in vars(events.ChannelSnapshot)
    assert "channel_state_desc" not in vars(events.Hangup)
    hangup = events.Hangup.from_headers(ChannelStateDesc="Up", **{"Cause-txt": "Normal"})
    assert (hangup.channel_state_desc, hangup.cause_txt, hangup.caller_id_num) == (
        "Up",
        "Normal",
        None,
    )


def test_login_raises_on_an_error_response_with_asterisks_message() -> None:
    login = actions.Login("admin", "wrong")
    refused = Response.from_headers(Response="Error", Message="Authentication failed")
    with pytest.raises(ManagerAuthError, match="Authentication failed"):
        login.check_response(refused)  # type: ignore[arg-type]
    login.check_response(Response.from_headers(Response="Success"))  # type: ignore[arg-type]


def test_the_catalogue_loads_on_first_use() -> None:
    code = (
        "import sys, amiasync\n"
        "from amiasync import core\n"
        "from amiasync.events import EVENT_CLASSES\n"
        "assert 'amiasync.actions' not in sys.modules and 'amiasync._events' not in sys.modules\n"
        "assert EVENT_CLASSES.get('NoSuchEvent') is None\n"
        "assert EVENT_CLASSES.get('Hangup').__name__ == 'Hangup'\n"
        "assert 'amiasync._events' in sys.modules and 'amiasync.actions' not in sys.modules\n"
        "assert core.Ping().action_name == 'Ping' and 'amiasync.actions' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_import_amiasync_loads_only_the_engine() -> None:
    # The import-time budget (issue 11): beyond asyncio and ssl, `import amiasync`
    # loads its engine modules and nothing that only some programs need: no
    # catalogue, no pool, no hashlib (MD5 login), no random (reconnect jitter).
    code = (
        "import sys, asyncio, ssl\n"
        "before = set(sys.modules)\n"
        "import amiasync\n"
        "extra = sorted(set(sys.modules) - before)\n"
        "print(' '.join(extra))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    for name in ("amiasync.actions", "amiasync._events", "amiasync.pool", "hashlib", "random"):
        assert name not in loaded, f"import amiasync loaded {name}"
    assert {"amiasync.connection", "amiasync.protocol"} <= loaded
    # The pool is still one attribute away.
    code = "import amiasync, sys; amiasync.ManagerPool; assert 'amiasync.pool' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_actions_all_lists_actions_only() -> None:
    assert all(issubclass(getattr(actions, n), DocumentedAction) for n in actions.__all__)
    assert "DocumentedAction" not in actions.__all__ and "check_required" not in actions.__all__
