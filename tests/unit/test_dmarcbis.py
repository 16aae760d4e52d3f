"""DMARC records read as RFC 9989 (DMARCbis) reads them: removed tags, np, psd and t."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.dns.dmarc_record import REMOVED_TAGS, parse_dmarc

RUA = "rua=mailto:d@example.com"


# ---- pct, rf and ri: removed, ignored, a warning each ------------------------------------


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        ("pct=50", "pct=50 is ignored: RFC 9989 removed pct"),
        ("pct=0", "to test a policy, use t=y"),
        ("pct=100", "pct=100 is ignored"),
        ("rf=afrf", "rf=afrf is ignored: RFC 9989 removed rf"),
        ("ri=3600", "ri=3600 is ignored: RFC 9989 removed ri"),
    ],
)
def test_removed_tags_are_a_warning_that_they_are_ignored(tag: str, words: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; {tag}; {RUA}")
    assert record.errors == []
    assert [w for w in record.warnings if words in w], record.warnings
    assert record.removed == [tag.split("=")[0]]
    assert record.policy == record.applied_policy == "reject"


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("pct=150", "out of range 0-100"),
        ("pct=-1", "is not a number 0-100"),
        ("pct=half", "is not a number 0-100"),
        ("ri=soon", "is not a number"),
        ("rf=iodef", "is not afrf"),
    ],
)
def test_out_of_range_removed_tag_is_a_warning_not_a_permerror(tag: str, problem: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p=quarantine; {tag}; {RUA}")
    assert record.errors == [], "an ignored tag cannot break the record"
    (warning,) = record.warnings
    assert warning.startswith(f"{tag} ({problem}) is ignored: RFC 9989 removed")


def test_all_three_removed_tags_warn_once_each_and_keep_what_was_stated() -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; pct=25; rf=afrf; ri=3600; {RUA}")
    assert record.errors == [] and record.removed == ["pct", "rf", "ri"]
    assert [w.split(" ", 1)[0] for w in record.warnings] == ["pct=25", "rf=afrf", "ri=3600"]
    assert (record.pct, record.rf, record.ri) == (25, "afrf", 3600)  # as stated, for the record
    data = record.to_dict()
    assert data["removed"] == ["pct", "rf", "ri"] and data["pct"] == 25


def test_a_duplicated_removed_tag_is_a_warning() -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; pct=50; pct=20; {RUA}")
    assert record.errors == []
    assert any("duplicate tag pct" in w for w in record.warnings)


def test_a_record_without_removed_tags_has_no_warning() -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; {RUA}")
    assert record.errors == record.warnings == record.removed == []


# ---- np, psd and t: known, parsed, validated ---------------------------------------------


def test_np_defaults_to_sp_then_p() -> None:
    assert parse_dmarc(f"v=DMARC1; p=reject; {RUA}").nonexistent_policy == "reject"
    assert parse_dmarc(f"v=DMARC1; p=none; sp=quarantine; {RUA}").nonexistent_policy == (
        "quarantine"
    )
    record = parse_dmarc(f"v=DMARC1; p=quarantine; sp=quarantine; np=Reject; {RUA}")
    assert record.nonexistent_policy == "reject" and record.errors == record.warnings == []


def test_np_none_under_an_enforced_policy_warns() -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; np=none; {RUA}")
    assert record.errors == []
    assert any("np=none" in w and "non-existent subdomains" in w for w in record.warnings)


@pytest.mark.parametrize(
    ("tag", "error"),
    [
        ("np=drop", "np=drop is not none/quarantine/reject"),
        ("psd=maybe", "psd=maybe is not y, n or u"),
        ("t=yes", "t=yes is not y (test mode) or n"),
        ("t=1", "t=1 is not y (test mode) or n"),
    ],
)
def test_bad_values_of_new_tags_are_errors(tag: str, error: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; {tag}; {RUA}")
    assert error in record.errors
    assert not any("unknown tag" in w for w in record.warnings)


@pytest.mark.parametrize("value", ["y", "n", "u", "Y"])
def test_psd_values(value: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; psd={value}; {RUA}")
    assert record.errors == [] and record.psd == value.lower()
    public_suffix = [w for w in record.warnings if "psd=y" in w]
    assert bool(public_suffix) == (value.lower() == "y")


@pytest.mark.parametrize(("policy", "applied"), [("reject", "quarantine"), ("quarantine", "none")])
def test_test_mode_says_the_policy_is_not_enforced(policy: str, applied: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p={policy}; t=y; {RUA}")
    assert record.errors == [] and record.testing
    assert (record.policy, record.applied_policy) == (policy, applied)
    (warning,) = record.warnings
    assert "t=y (test mode): the policy is not enforced" in warning
    assert f"p={applied} instead of p={policy}" in warning
    assert record.to_dict()["applied_policy"] == applied


def test_test_mode_off_and_under_none() -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; t=n; {RUA}")
    assert not record.testing and record.warnings == [] and record.applied_policy == "reject"
    record = parse_dmarc(f"v=DMARC1; p=none; t=y; {RUA}")
    assert record.applied_policy == "none"
    assert not any("t=y" in w for w in record.warnings)  # p=none already says it monitors


def test_rfc_9989_example_record() -> None:
    """RFC 9989 B.2.5: a subdomain testing quarantine with two aggregate URIs."""
    record = parse_dmarc(
        "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,"
        "mailto:tld-test@thirdparty.example.net; t=y"
    )
    assert record.errors == [] and record.testing and record.applied_policy == "none"
    assert len(record.rua) == 2


# ---- properties ----------------------------------------------------------------------------


_removed_value = st.one_of(
    st.integers(-5, 10**6).map(str), st.text("abcxyz:!.-", min_size=1, max_size=8)
)


@given(st.sampled_from(REMOVED_TAGS), _removed_value)
def test_a_removed_tag_never_makes_an_error(tag: str, value: str) -> None:
    record = parse_dmarc(f"v=DMARC1; p=reject; {tag}={value}; {RUA}")
    assert record.errors == [], record.errors
    assert len(record.warnings) == 1 and "is ignored: RFC 9989 removed" in record.warnings[0]
    json.dumps(record.to_dict())
