"""One rule for text that reaches a document, the log or a terminal: hostile characters are
refused naming the field, lengths are limited, text is NFC; printing escapes what it shows."""

from __future__ import annotations

import pytest

from certdesk.domain.text import LIMITS, UnsafeText, clean_text, printable
from tests.english import raises_en


@pytest.mark.parametrize(("text", "why"), [
    ("恒信\x00达", "control character (U+0000)"),
    ("恒信\x1b[31m达", "control character (U+001B)"),
    ("恒信\x85达", "control character (U+0085)"),
    ("evil\u202e有限公司", "formatting character (bidi or zero-width) (U+202E)"),
    ("恒\u2066信\u2069", "U+2066"),
    ("恒信\u200f达", "U+200F"),
    ("恒\u200b信", "U+200B"),
    ("恒信\u0378", "unassigned code point (U+0378)"),
    ("恒信\ud800", "lone surrogate (U+D800)"),
    ("恒信\n达", "control character (U+000A)"),
    ("恒信\u2028达", "line separator"),
])
def test_hostile_characters_are_refused_naming_field_character_and_place(text, why):
    with pytest.raises(UnsafeText) as err:
        clean_text(text, "name", "orgs.json: record 2")
    message = err.value.text("en")
    assert message.startswith("orgs.json: record 2: field 'name' contains")
    assert why in message and "at character" in message


def test_line_breaks_and_tabs_are_text_where_a_field_has_several_lines():
    assert clean_text("第一条\r\n第二条\t完", "findings") == "第一条\n第二条\t完"
    with raises_en(UnsafeText, match=r"U\+001B"):
        clean_text("第一条\x1b", "findings")


def test_text_is_nfc_normalised_and_plain_chinese_and_latin_pass():
    assert clean_text("Cafe\u0301 恒信达（北京）有限公司", "name") == "Café 恒信达（北京）有限公司"


def test_each_field_has_a_length_limit_counted_in_characters():
    assert clean_text("家" * LIMITS["name"], "name")
    with raises_en(UnsafeText, match="'name' is 5000 characters long; at most 200"):
        clean_text("家" * 5000, "name")
    with raises_en(UnsafeText, match="at most 5000"):
        clean_text("x" * 5001, "anything_else")


def test_printing_shows_control_and_bidi_characters_as_escapes():
    assert printable("a\x1b[31mb\u202ec\n") == "a\\x1b[31mb\\u202ec\n"
    assert printable("恒信达") == "恒信达"


def test_a_file_name_with_control_or_bidi_characters_is_refused_before_conversion():
    from certdesk.services.ingest import take_in

    with raises_en(UnsafeText, match="'filename' contains .*U\\+202E"):
        take_in(None, None, None, None, b"%PDF-1.4", "invoice\u202efdp.exe",
                record_type="report", filing=None, signer=None, actor="t")
