"""The stream format's JSON: the same bytes with orjson and with the standard library."""

from __future__ import annotations

import json

import pytest

from amiasync.bridge import format as stream_format

# Every character JSON must escape, and text both encoders could treat
# differently: quotes, backslashes, DEL, U+2028/U+2029, non-BMP, Latin-1.
NASTY = [chr(c) for c in range(0x20)] + ['"', "\\", "/", "\x7f", "\u2028", "\u2029", "😀", "ÿ"]


@pytest.mark.parametrize("char", NASTY)
def test_headers_encode_as_compact_utf8_json_whatever_the_encoder(char, monkeypatch):
    pairs = [("Event", "UserEvent"), (f"K{char}", f"a{char}b"), ("K", "")]
    expected = json.dumps(pairs, ensure_ascii=False, separators=(",", ":")).encode()
    assert stream_format.encode_pairs(pairs) == expected
    monkeypatch.setattr(stream_format, "_orjson_dumps", None)
    assert stream_format.encode_pairs(pairs) == expected
    assert stream_format.decode_pairs(expected) == pairs


def test_the_fast_encoder_is_in_use_when_installed():
    # The redis extra brings orjson: the benchmark's figures depend on it.
    pytest.importorskip("orjson")
    assert stream_format._orjson_dumps is not None
