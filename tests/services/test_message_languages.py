"""The services' and the store's messages are msgids: Chinese as raised, today's English
where the command line (LANG=C) shows them, and the same place named in both."""

from types import SimpleNamespace

import pytest

from certdesk.common.batch import reason
from certdesk.common.errors import ConfigError, InputError, NotFound
from certdesk.common.i18n import Said, shown
from certdesk.services.inputs import Rejected, decode_csv, parse_csv, parse_json
from certdesk.store.blobs import open_store


def test_a_loader_error_names_the_file_and_line_in_chinese_and_in_english():
    text = "name,uscc,registered_address,scope,decision_date,,\n某公司,x,北京,维修,2026-03-10,,7\n"
    with pytest.raises(InputError) as caught:
        parse_csv(text, "o.csv")
    assert str(caught.value) == "o.csv：第 2 行第 7 列有值，但该列没有表头"
    assert caught.value.text("en") == "o.csv: line 2 has a value in column 7, which has no header"


def test_bytes_in_no_known_encoding_are_refused_in_both_languages():
    with pytest.raises(InputError) as caught:
        decode_csv(b"\xff\xfe\xfa\x80", "o.csv")
    assert str(caught.value).startswith("o.csv：既不是 UTF-8 也不是 GB18030/GBK 文本")
    assert caught.value.text("en").startswith("o.csv: neither UTF-8 nor GB18030/GBK text")


def test_a_reading_warning_is_chinese_text_and_english_where_shown():
    (org,) = parse_csv("name,uscc,registered_address,scope,decision_date\n"
                       "某　公司,91110108MA01CD3E6R,北京,维修,2026-03-10\n", "o.csv")
    (warning,) = org.warnings
    assert warning == ("o.csv：第 2 行（某公司）：字段 'name'：空白已规范，"
                       "'某\\u3000公司' 按 '某公司' 读取")
    assert shown(warning, "en") == ("o.csv: line 2 (某公司): field 'name': spaces normalised, "
                                    "'某\\u3000公司' read as '某公司'")


def test_an_error_carried_inside_another_is_translated_with_it():
    (bad,) = parse_csv("name,uscc,registered_address,scope,decision_date\n"
                       "某公司,91110108MA01CD3E6X,北京,维修,2026-03-10\n", "o.csv")
    assert isinstance(bad, Rejected)
    assert str(bad.error).startswith("o.csv：第 2 行（某公司）：")
    assert bad.error.text("en").startswith("o.csv: line 2 (某公司): ")


def test_a_records_place_is_said_whole_in_the_language_of_its_line():
    (bad,) = parse_json('{"name": "某公司", "uscc": "91110108MA01CD3E6R", '
                        '"registered_address": "北京", "scope": "维修", '
                        '"decision_date": "2026-03-10", "sites": [{"address": "上海"}]}',
                        "o.json")
    assert isinstance(bad, Rejected) and isinstance(bad.where, Said)
    assert str(bad.error) == "o.json：第 1 条记录（某公司），第 1 个场所：字段 'scope' 缺失或为空"
    assert bad.error.text("en") == ("o.json: record 1 (某公司), site 1: field 'scope' is "
                                    "missing or empty")
    assert shown(bad.where, "en") == "o.json: record 1 (某公司)"


def test_a_batch_failure_is_kept_as_said_and_shown_in_the_readers_language():
    why = reason(NotFound("无此证书 {number}", number="0117 20 FWA 0001 R0 00"))
    assert isinstance(why, Said) and why == "无此证书 0117 20 FWA 0001 R0 00"
    assert shown(why, "en") == "no certificate 0117 20 FWA 0001 R0 00"
    assert shown("plain text kept as it was", "en") == "plain text kept as it was"


def test_a_store_configuration_error_reads_as_before_in_english():
    settings = SimpleNamespace(blob_url="ftp://somewhere")
    with pytest.raises(ConfigError) as caught:
        open_store(settings)  # type: ignore[arg-type]
    assert str(caught.value).startswith("CERTDESK_BLOB_URL 'ftp://somewhere'：请使用")
    assert caught.value.text("en") == ("CERTDESK_BLOB_URL 'ftp://somewhere': use "
                                       "s3://bucket[/prefix] or file:///path")
