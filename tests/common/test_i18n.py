"""The catalogs and the choice of language: every message in the code has its English
translation; Accept-Language, LANG and message parameters are read as documented."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from certdesk.common import i18n
from certdesk.common.errors import AlreadyHeld, InputError, InvalidUSCC
from certdesk.common.i18n import N_, Msg, from_accept_language, from_environment, translate
from certdesk.domain.uscc import validate_uscc

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/certdesk/locale/en/LC_MESSAGES/certdesk.po"
FIX = ("run `bash scripts/i18n.sh`, fill the empty msgstr entries of "
       "src/certdesk/locale/en/LC_MESSAGES/certdesk.po (and drop every '#, fuzzy' once "
       "checked), then run it again (docs/translations.md)")
FIELDS = re.compile(r"{\w+}|%\(\w+\)s")


def extracted() -> dict[str, str]:
    """msgid → where, as ``pybabel extract`` finds them with babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / "src/certdesk", method_map, options_map):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"src/certdesk/{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return read_po(f)


def test_every_message_in_the_code_has_an_english_translation(catalog):
    missing = [f"{where}: {msgid}" for msgid, where in extracted().items()
               if not (m := catalog.get(msgid)) or not m.string]
    assert not missing, f"{len(missing)} message(s) without English: {FIX}\n" + \
        "\n".join(sorted(missing))


def test_no_translation_is_fuzzy_and_each_keeps_its_fields(catalog):
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy (guessed) translations: {FIX}\n" + "\n".join(fuzzy)
    wrong = [f"{m.id!r} → {m.string!r}" for m in catalog if m.id and m.string
             and sorted(FIELDS.findall(m.id)) != sorted(FIELDS.findall(m.string))]
    assert not wrong, "translations must keep the message's {fields}:\n" + "\n".join(wrong)


def test_the_po_file_is_read_when_no_compiled_catalog_is_newer(tmp_path, monkeypatch):
    # A fresh clone has no .mo: the .po itself is compiled in memory.
    (tmp_path / "en/LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "en/LC_MESSAGES/certdesk.po").write_bytes(PO.read_bytes())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        assert translate("en", "密码已修改。") == "Password changed."
    finally:
        i18n.catalog.cache_clear()


@pytest.mark.parametrize("header, lang", [
    ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("fr-FR, en;q=0.5", "en"),
    ("en;q=0.4, zh-TW;q=0.6", "zh"), ("fr, de", None), ("", None), (None, None),
    ("en;q=0, zh;q=0.1", "zh"), ("en;q=1..5", None),
])
def test_accept_language_picks_the_best_of_zh_and_en(header, lang):
    assert from_accept_language(header) == lang


@pytest.mark.parametrize("environ, lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C"}, "en"),
    ({}, "en"), ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "C.UTF-8", "LANGUAGE": "zh_CN:en"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
])
def test_the_command_lines_language_follows_the_locale_variables(environ, lang):
    assert from_environment(environ) == lang


def test_an_error_is_chinese_as_a_string_and_translated_with_its_parameters():
    exc = AlreadyHeld("恒信达", "027326FWF0001R000", N_("暂停"), "2029-03-14")
    assert str(exc).startswith("恒信达：已持有有效证书 027326FWF0001R000，未重复发证（暂停，")
    assert exc.text("en").startswith("恒信达 already holds the current certificate "
                                     "027326FWF0001R000 (suspended, valid until 2029-03-14)")
    assert exc.code == "AlreadyHeld"


def test_a_message_without_a_msgid_stays_as_raised_and_survives_pickling():
    exc = InputError("line 3: {not a field}")
    assert exc.text("en") == "line 3: {not a field}"
    again = pickle.loads(pickle.dumps(InputError(N_("请填写{label}。"), label=Msg("日期"))))
    assert again.text("en") == "Fill in the date." and str(again) == "请填写日期。"


def test_a_tuple_of_msgids_is_translated_and_joined():
    assert translate("en", "{x}", x=(Msg("暂停"), Msg("有效"))) == "suspended, valid"
    assert translate("zh", "{x}", x=(Msg("暂停"), Msg("有效"))) == "暂停、有效"


def test_an_error_wrapped_in_another_is_shown_in_the_readers_language():
    with pytest.raises(InvalidUSCC) as inner:
        validate_uscc("123")
    outer = InputError(N_("{where}：{error}"), where="orgs.json: record 1", error=inner.value)
    assert str(outer) == "orgs.json: record 1：统一社会信用代码 '123' 有 3 位，应为 18 位"
    assert outer.text("en") == "orgs.json: record 1: credit code '123' has 3 characters, " \
                               "expected 18"
