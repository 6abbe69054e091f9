"""The certificate-number grammar [XBHT annex A]: round trips and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdesk.common.errors import InvalidNumber
from certdesk.domain.numbering import SCHEMES, CertNumber, body_code_from_approval, parse
from tests.english import raises_en

body_codes = st.one_of(st.from_regex(r"F[0-9]{3}", fullmatch=True),
                       st.from_regex(r"[0-9]{3,4}", fullmatch=True))
sequences = st.from_regex(r"[0-9]{4,5}", fullmatch=True).filter(lambda s: int(s) > 0)
numbers = st.builds(
    CertNumber,
    body_code=body_codes,
    year=st.integers(0, 99),
    scheme=st.sampled_from(sorted(SCHEMES)),
    sequence=sequences,
    cycle=st.integers(0, 99),
    accreditation_code=st.from_regex(r"[0-9]{2}", fullmatch=True),
    sub=st.none() | st.integers(1, 999),
)


@given(numbers)
def test_parsing_a_formatted_number_gives_the_number_back(number):
    assert parse(number.format()) == number


@given(numbers)
def test_parsing_the_spaced_printed_form_gives_the_number_back(number):
    assert parse(number.format(spaced=True)) == number


@given(numbers)
def test_parsing_ignores_case_and_surrounding_space(number):
    assert parse(f"  {number.format().lower()}\n") == number


@given(numbers)
def test_a_sub_certificate_belongs_to_its_main_number(number):
    sub = number.with_sub(3)
    assert parse(str(sub)).main == number.main
    assert str(sub).endswith("-3")


@given(numbers)
def test_the_next_cycle_only_raises_r(number):
    nxt = number.next_cycle() if number.cycle < 99 else number.main
    assert (nxt.body_code, nxt.year, nxt.sequence, nxt.sub) == (
        number.body_code, number.year, number.sequence, None)


def test_the_xbht_example_parses_into_its_parts():
    number = parse("0273 26 FWF 0001 R0 00 -1")
    assert number.as_dict() == {"body_code": "0273", "year": 26, "scheme": "FWF",
                                "sequence": "0001", "cycle": 0, "accreditation_code": "00",
                                "sub": 1}
    assert str(number) == "027326FWF0001R000-1"


@pytest.mark.parametrize(
    "text,match",
    [
        ("", "empty"),
        ("027326FWX0001R000", "scheme .FWX. is not one of"),
        ("027326FWF0000R000", "not all zero"),
        ("027326FWF0001R00", "is not a certificate number"),
        ("027326FWF001R000", "is not a certificate number"),
        ("027326FWF0001R000-0", "is not a certificate number"),
        ("1226FWF0001R000", "is not a certificate number"),
    ],
)
def test_malformed_numbers_are_refused_with_a_clear_message(text, match):
    with raises_en(InvalidNumber, match=match):
        parse(text)


@pytest.mark.parametrize(
    "field,value,match",
    [("body_code", "27", "3-4 digits"), ("year", 2026, "two digits"),
     ("scheme", "FWZ", "not one of"), ("cycle", 100, "0-99"),
     ("accreditation_code", "1", "two digits"), ("sub", 0, "1-999")],
)
def test_out_of_range_parts_are_refused(field, value, match):
    parts = {"body_code": "0273", "year": 26, "scheme": "FWF", "sequence": "0001",
             field: value}
    with raises_en(InvalidNumber, match=match):
        CertNumber(**parts)


@pytest.mark.parametrize(
    "approval,code",
    [("CNCA-R-2002-273", "273"), ("CNCA-R-2017-0273", "0273"), ("cnca-r-2003-7", "007"),
     ("CNCA-RF-2010-7", "F007"), ("CNCA-RF-2010-1234", "F234")],
)
def test_body_codes_come_from_the_approval_number(approval, code):
    assert body_code_from_approval(approval) == code


def test_a_malformed_approval_number_is_refused():
    with raises_en(InvalidNumber, match="CNCA-R"):
        body_code_from_approval("CNAS-123")
