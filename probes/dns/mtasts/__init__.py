"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the TXT records, the policy, and its fetch.

``records`` parses the two TXT records, ``policy`` the policy file and which MX
it covers, ``fetch`` gets the policy over HTTPS. Nothing here raises for bad
input or network trouble: results say what is wrong.
"""

from __future__ import annotations

from probes.dns.mtasts.fetch import (
    POLICY_PATH,
    POLICY_SIZE_LIMIT,
    FetchErrorKind,
    PolicyFetch,
    fetch_policy,
)
from probes.dns.mtasts.policy import (
    MAX_AGE_LIMIT,
    MIN_ENFORCE_MAX_AGE,
    STS_MODES,
    StsPolicy,
    mx_matches,
    parse_policy,
    policy_covers,
)
from probes.dns.mtasts.records import StsTxt, TlsRptRecord, parse_sts_txt, parse_tlsrpt

__all__ = [
    "MAX_AGE_LIMIT",
    "MIN_ENFORCE_MAX_AGE",
    "POLICY_PATH",
    "POLICY_SIZE_LIMIT",
    "STS_MODES",
    "FetchErrorKind",
    "PolicyFetch",
    "StsPolicy",
    "StsTxt",
    "TlsRptRecord",
    "fetch_policy",
    "mx_matches",
    "parse_policy",
    "parse_sts_txt",
    "parse_tlsrpt",
    "policy_covers",
]
