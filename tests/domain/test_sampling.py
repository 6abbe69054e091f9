"""Multi-site sampling: exact ceilings, coefficient ranges, bounds."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdesk.common.errors import InputError, RuleViolation
from certdesk.domain.sampling import ceil_times_sqrt, sample_size
from certdesk.domain.spec import Audit
from tests.english import raises_en
from tests.shipped import SHIPPED, rules_of

PROFILES = tuple(SHIPPED.ids())
SQRT_RULE = ("cacq", "zpic", "dni-spshfw", "dni-sh")  # DNI: CACQ's rule by default


@pytest.mark.parametrize("pid", SQRT_RULE)
@pytest.mark.parametrize(
    "audit,sites,sample",
    [
        (Audit.INITIAL, 1, 1), (Audit.INITIAL, 25, 5), (Audit.INITIAL, 26, 6),
        (Audit.SURVEILLANCE, 25, 3), (Audit.SURVEILLANCE, 26, 4), (Audit.SURVEILLANCE, 100, 6),
        (Audit.RECERTIFICATION, 25, 4), (Audit.RECERTIFICATION, 100, 8),
        (Audit.RECERTIFICATION, 101, 9),
    ],
)
def test_square_root_bodies_sample_ceil_of_coefficient_times_root(pid, audit, sites, sample):
    assert sample_size(rules_of(pid).sampling, audit, sites).sample == sample


@pytest.mark.parametrize(
    "audit,coefficient,sites,sample",
    [
        (Audit.INITIAL, "1.8", 25, 9), (Audit.INITIAL, "2", 25, 10),
        (Audit.SURVEILLANCE, "1.1", 100, 11), (Audit.SURVEILLANCE, "1.2", 100, 12),
        (Audit.RECERTIFICATION, "1.5", 16, 6), (Audit.RECERTIFICATION, "1.6", 16, 7),
    ],
)
def test_xbht_samples_ceil_of_its_chosen_coefficient_times_root(audit, coefficient, sites,
                                                                 sample):
    result = sample_size(rules_of("xbht").sampling, audit, sites, Fraction(coefficient))
    assert result.sample == sample


def test_xbht_defaults_to_the_top_of_the_range_and_asks_for_a_quarter_at_random():
    result = sample_size(rules_of("xbht").sampling, Audit.INITIAL, 25)
    assert (result.coefficient, result.sample, result.random_at_least) == (2, 10, 3)


@pytest.mark.parametrize(
    "audit,coefficient,label",
    [(Audit.INITIAL, "1.7", r"\[1.8, 2\]"), (Audit.SURVEILLANCE, "1.25", r"\[1.1, 1.2\]"),
     (Audit.RECERTIFICATION, "1.4", r"\[1.5, 1.6\]")],
)
def test_an_xbht_coefficient_outside_the_stage_range_is_refused_naming_the_range(
        audit, coefficient, label):
    with raises_en(RuleViolation, match=f"outside the {audit.value} range {label}.*XBHT"):
        sample_size(rules_of("xbht").sampling, audit, 10, Fraction(coefficient))


def test_a_body_with_a_fixed_coefficient_refuses_another():
    with raises_en(RuleViolation, match=r"fixed at 0.6 \[CACQ 7.3.4.3\(2\)\]"):
        sample_size(rules_of("cacq").sampling, Audit.SURVEILLANCE, 10, Fraction("0.7"))


def test_the_sample_never_exceeds_the_sites_and_says_when_it_was_capped():
    result = sample_size(rules_of("xbht").sampling, Audit.INITIAL, 3)
    assert (result.sample, result.capped) == (3, True)


def test_zpic_visits_the_central_office_besides_the_sample():
    result = sample_size(rules_of("zpic").sampling, Audit.INITIAL, 9)
    assert (result.sample, result.site_visits) == (3, 4)


@pytest.mark.parametrize("sites", [0, -3])
def test_fewer_than_one_site_is_refused(sites):
    with raises_en(InputError, match="--sites must be at least 1"):
        sample_size(rules_of("cacq").sampling, Audit.INITIAL, sites)


@given(x=st.integers(0, 10**9), p=st.integers(1, 400), q=st.integers(1, 100))
def test_the_exact_ceiling_is_the_least_integer_not_below_n_root_x(x, p, q):
    n = Fraction(p, q)
    y = ceil_times_sqrt(n, x)
    assert Fraction(y * y) >= n * n * x
    assert y == 0 or Fraction((y - 1) ** 2) < n * n * x


@given(x=st.integers(1, 10**6), pid=st.sampled_from(PROFILES), audit=st.sampled_from(list(Audit)),
       t=st.fractions(0, 1))
def test_every_sample_is_between_one_and_the_number_of_sites(x, pid, audit, t):
    rules = rules_of(pid).sampling
    rng = rules.stages[audit]
    n = rng.low + (rng.high - rng.low) * t
    result = sample_size(rules, audit, x, n)
    assert 1 <= result.sample <= x
    assert result.capped == (ceil_times_sqrt(n, x) > x)
