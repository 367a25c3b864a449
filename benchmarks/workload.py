"""The benchmark's event stream: a deterministic, realistic call mix.

Every event carries the 14-header channel snapshot Asterisk builds
(``ast_manager_build_channel_state_string``) plus its own headers. A call is
Newchannel, VarSet x2, Newexten, Newchannel (callee), DialBegin, Newstate x3
and Hangup x2; one call in three has a UTF-8 caller name (``Łukasz Żółć``,
``王小明``, ...), so a stream cut at arbitrary byte offsets splits multibyte
characters across reads.

``event_pairs(i)`` is a pure function of ``i``: the blaster and the verifying
clients compute the same headers independently, and nothing has to be kept in
memory to check a stream of any length. A stream of ``n`` events is the block
``0 .. min(n, BLOCK) - 1`` repeated.
"""

from __future__ import annotations

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
BLOCK = 200_000

_NAMES = [
    ("Łukasz Żółć", "4861"),
    ("Alice Smith", "1001"),
    ("Bob Jones", "1002"),
    ("王小明", "8610"),
    ("Carol White", "1003"),
    ("Dave Brown", "1004"),
    ("José Müller", "4930"),
    ("Eve Black", "1005"),
    ("Frank Green", "1006"),
    ("Ωμέγα Σίσυφος", "3021"),
    ("Grace Hall", "1007"),
    ("Heidi Klum", "1008"),
]
_PEERS = ["trunk-eu", "trunk-us", "pbx-b", "provider"]
# (event kind, which channel) for one call: A is the caller, B the callee.
_CALL = [
    ("Newchannel", "A"),
    ("VarSet", "A"),
    ("VarSet", "A"),
    ("Newexten", "A"),
    ("Newchannel", "B"),
    ("DialBegin", "A"),
    ("Newstate", "B"),
    ("Newstate", "B"),
    ("Newstate", "A"),
    ("Hangup", "B"),
    ("Hangup", "A"),
]
_STATE = {
    ("Newchannel", "A"): (0, "Down"),
    ("VarSet", "A"): (4, "Ring"),
    ("Newexten", "A"): (4, "Ring"),
    ("Newchannel", "B"): (0, "Down"),
    ("DialBegin", "A"): (4, "Ring"),
    ("Hangup", "B"): (6, "Up"),
    ("Hangup", "A"): (6, "Up"),
}


def _snapshot(
    prefix: str, channel: str, state: tuple[int, str], num: str, name: str, other: tuple[str, str],
    exten: str, uniqueid: str, linkedid: str,
) -> list[tuple[str, str]]:
    return [
        (prefix + "Channel", channel),
        (prefix + "ChannelState", str(state[0])),
        (prefix + "ChannelStateDesc", state[1]),
        (prefix + "CallerIDNum", num),
        (prefix + "CallerIDName", name),
        (prefix + "ConnectedLineNum", other[0]),
        (prefix + "ConnectedLineName", other[1]),
        (prefix + "Language", "en"),
        (prefix + "AccountCode", ""),
        (prefix + "Context", "from-internal" if prefix == "" else "from-trunk"),
        (prefix + "Exten", exten),
        (prefix + "Priority", "1"),
        (prefix + "Uniqueid", uniqueid),
        (prefix + "Linkedid", linkedid),
    ]


def event_pairs(i: int) -> list[tuple[str, str]]:
    """Return the headers of event ``i`` of the stream, in order."""
    i %= BLOCK
    call, step = divmod(i, len(_CALL))
    kind, side = _CALL[step]
    caller, callee = _NAMES[call % len(_NAMES)], _NAMES[(call * 7 + 3) % len(_NAMES)]
    base = 1_700_000_000 + call // 10
    uid_a, uid_b = f"{base}.{call * 2}", f"{base}.{call * 2 + 1}"
    chan_a = f"PJSIP/{_PEERS[call % len(_PEERS)]}-{call * 2:08x}"
    chan_b = f"PJSIP/{caller[1]}-{call * 2 + 1:08x}"
    exten = f"{callee[1]}{call % 1000:03d}"
    a_state = _STATE.get((kind, side))
    if kind == "Newstate":
        a_state = [(5, "Ringing"), (6, "Up"), (6, "Up")][step - 6]
    assert a_state is not None
    unknown = ("<unknown>", "<unknown>")
    if side == "A":
        snap = _snapshot(
            "", chan_a, a_state, caller[1], caller[0],
            unknown if kind != "Newstate" else (callee[1], callee[0]), exten, uid_a, uid_a,
        )
    else:
        snap = _snapshot(
            "", chan_b, a_state, callee[1], callee[0], (caller[1], caller[0]), exten, uid_b,
            uid_a,
        )
    pairs = [("Event", kind), ("Privilege", "dialplan,all" if kind in ("VarSet", "Newexten")
                                else "call,all")]
    pairs += snap
    if kind == "VarSet":
        if step == 1:
            uri = f"sip:{caller[1]}@10.0.{call % 250}.7:5060"
            pairs += [("Variable", "SIPURI"), ("Value", uri)]
        else:
            pairs += [("Variable", "CALLERNAME"), ("Value", caller[0])]
    elif kind == "Newexten":
        pairs += [("Extension", exten), ("Application", "Dial"),
                  ("AppData", f"PJSIP/{callee[1]},30,tT")]
    elif kind == "DialBegin":
        pairs += _snapshot(
            "Dest", chan_b, (0, "Down"), callee[1], callee[0], (caller[1], caller[0]), exten,
            uid_b, uid_a,
        )
        pairs += [("DialString", f"{callee[1]}@{_PEERS[call % len(_PEERS)]}")]
    elif kind == "Hangup":
        pairs += [("Cause", "16"), ("Cause-txt", "Normal Clearing")]
    return pairs


def encode(pairs: list[tuple[str, str]]) -> bytes:
    """Serialise one event as Asterisk does (``Key: Value`` lines, blank line)."""
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8")


def block(n: int) -> list[bytes]:
    """Return the encoded events ``0 .. min(n, BLOCK) - 1``."""
    return [encode(event_pairs(i)) for i in range(min(n, BLOCK))]

