"""DKIM key records and selector lookups (real keys made with ``cryptography``, the lab DNS)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from probes.dns.dkim import DEFAULT_SELECTORS, check_dkim_selector, cname_style, parse_dkim
from probes.dns.model import LookupStatus
from tests.labkit.dns_fixture import LabZones, lab_zones

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def rsa_key(bits: int) -> str:
    """The base64 SubjectPublicKeyInfo of a fresh RSA key."""
    public = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return base64.b64encode(public.public_bytes(DER, SPKI)).decode()


def weak_rsa_key() -> str:
    """A 512-bit RSA public key (cryptography no longer generates such keys)."""
    public = rsa.RSAPublicNumbers(65537, (1 << 511) | 0xBADC0FFEE1).public_key()
    return base64.b64encode(public.public_bytes(DER, SPKI)).decode()


def ed25519_raw() -> str:
    """The base64 raw 32-byte Ed25519 public key, as RFC 8463 publishes it."""
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def rsa2048() -> str:
    return rsa_key(2048)


def test_rsa_2048_is_good(rsa2048: str) -> None:
    key = parse_dkim(f"v=DKIM1; k=rsa; p={rsa2048}")
    assert (key.key_type, key.key_bits, key.version) == ("rsa", 2048, "DKIM1")
    assert key.errors == [] and key.warnings == []
    assert key.usable and not key.revoked


def test_k_defaults_to_rsa_and_folded_key_is_read(rsa2048: str) -> None:
    folded = " ".join(rsa2048[i : i + 60] for i in range(0, len(rsa2048), 60))
    key = parse_dkim(f"p={folded}")
    assert key.key_type == "rsa" and key.key_bits == 2048 and key.errors == []


def test_rsa_1024_warns_to_use_2048() -> None:
    key = parse_dkim(f"v=DKIM1; k=rsa; p={rsa_key(1024)}")
    assert key.key_bits == 1024 and key.errors == []
    assert any("2048" in w for w in key.warnings)


def test_rsa_below_1024_is_an_error() -> None:
    key = parse_dkim(f"v=DKIM1; p={weak_rsa_key()}")
    assert key.key_bits == 512
    assert any("too weak" in e for e in key.errors)


def test_ed25519_raw_key() -> None:
    key = parse_dkim(f"v=DKIM1; k=ed25519; p={ed25519_raw()}")
    assert (key.key_type, key.key_bits, key.errors) == ("ed25519", 256, [])


def test_ed25519_key_with_k_rsa_is_an_error() -> None:
    key = parse_dkim(f"v=DKIM1; k=rsa; p={ed25519_raw()}")
    assert key.errors


def test_revoked_key() -> None:
    key = parse_dkim("v=DKIM1; k=rsa; p=")
    assert key.revoked and key.errors == [] and not key.usable


def test_testing_flag_warns(rsa2048: str) -> None:
    key = parse_dkim(f"v=DKIM1; t=y:s; p={rsa2048}")
    assert key.testing and any("t=y" in w for w in key.warnings)


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ("v=DKIM1; k=rsa; p=!!!not-base64!!!", "base64"),
        ("v=DKIM1; k=rsa; p=aGVsbG8gd29ybGQ=", "cannot be read"),
        ("v=DKIM2; k=rsa; p=aGVsbG8=", "DKIM1"),
        ("v=DKIM1; k=dsa; p=aGVsbG8=", "unknown key type"),
        ("v=DKIM1; k=rsa", "no p= tag"),
        ("garbage without tags", "not a tag=value"),
        ("v=DKIM1; s=other; p=", "not for email"),
    ],
)
def test_bad_records(record: str, fragment: str) -> None:
    key = parse_dkim(record)
    assert any(fragment in e for e in key.errors), key.errors


def test_v_must_come_first(rsa2048: str) -> None:
    assert any("first" in e for e in parse_dkim(f"k=rsa; v=DKIM1; p={rsa2048}").errors)


@given(st.text())
def test_parse_dkim_never_raises(text: str) -> None:
    key = parse_dkim(text)
    json.dumps(key.to_dict())


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= "))
def test_parse_dkim_never_raises_on_base64_like_keys(text: str) -> None:
    parse_dkim(f"v=DKIM1; k=ed25519; p={text}")
    parse_dkim(f"v=DKIM1; p={text}")


# --- selector lookups through the lab DNS server ---------------------------------------


@pytest.fixture(name="zone")
def zone_fixture() -> Iterator[LabZones]:
    """Lab DNS zones holding nothing but each test's own records."""
    yield from lab_zones()


DOMAIN = "contoso.lab.test"
OLD_TARGET = "selector1-contoso-lab-test._domainkey.contoso.onmicrosoft.com"
NEW_TARGET = "selector1-contoso-lab-test._domainkey.contoso.r-v1.dkim.mail.microsoft"


def test_default_selectors() -> None:
    assert DEFAULT_SELECTORS == {"office365": ("selector1", "selector2"), "google": ("google",)}


async def test_google_txt_selector(rsa2048: str, zone: LabZones) -> None:
    name = f"google._domainkey.{DOMAIN}"
    dns = zone(
        {
            f"{name} CNAME": LookupStatus.NODATA,
            f"{name} TXT": [f"v=DKIM1; k=rsa; p={rsa2048}"],
        }
    )
    result = await check_dkim_selector(DOMAIN, "google", dns)
    assert (result.status, result.name, result.cname_target) == ("ok", name, None)
    assert result.key is not None and result.key.key_bits == 2048
    assert [lk.rtype for lk in result.lookups] == ["CNAME", "TXT"]
    json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("target", "style"), [(OLD_TARGET, "onmicrosoft"), (NEW_TARGET, "dkim.mail.microsoft")]
)
async def test_microsoft_cname_followed_by_resolver(
    rsa2048: str, target: str, style: str, zone: LabZones
) -> None:
    name = f"selector1._domainkey.{DOMAIN}"
    # the server follows the CNAME: the TXT query for the selector returns the target's key
    dns = zone(
        {
            f"{name} CNAME": [target + "."],
            f"{target} TXT": [f"v=DKIM1; k=rsa; p={rsa2048}"],
        }
    )
    result = await check_dkim_selector(DOMAIN, "selector1", dns)
    assert result.status == "ok"
    assert result.cname_target == target and result.cname_style == style
    assert result.to_dict()["cname_style"] == style


async def test_cname_chased_when_server_does_not(rsa2048: str, zone: LabZones) -> None:
    name = f"selector1._domainkey.{DOMAIN}"
    dns = zone(
        {
            f"{name} CNAME": [OLD_TARGET + "."],
            f"{name} TXT": LookupStatus.NODATA,
            f"{OLD_TARGET} TXT": [f"v=DKIM1; k=rsa; p={rsa2048}"],
        },
        follow_cnames=False,
    )
    result = await check_dkim_selector(DOMAIN, "selector1", dns)
    assert result.status == "ok" and result.cname_target == OLD_TARGET
    assert (OLD_TARGET, "TXT") in dns.asked and len(result.lookups) == 3


async def test_dangling_cname_is_missing_with_target(zone: LabZones) -> None:
    name = f"selector1._domainkey.{DOMAIN}"
    dns = zone({f"{name} CNAME": [OLD_TARGET + "."]})
    result = await check_dkim_selector(DOMAIN, "selector1", dns)
    assert result.status == "missing" and result.cname_target == OLD_TARGET


async def test_missing_selector(zone: LabZones) -> None:
    result = await check_dkim_selector(DOMAIN, "selector2", zone({}))
    assert result.status == "missing" and result.key is None


@pytest.mark.parametrize("failure", [LookupStatus.SERVFAIL, LookupStatus.TIMEOUT])
async def test_failed_lookup_is_never_missing(failure: LookupStatus, zone: LabZones) -> None:
    name = f"selector1._domainkey.{DOMAIN}"
    dns = zone({f"{name} CNAME": failure, f"{name} TXT": failure})
    result = await check_dkim_selector(DOMAIN, "selector1", dns)
    assert result.status == "lookup_failed"


async def test_failed_lookup_of_cname_target(zone: LabZones) -> None:
    name = f"selector1._domainkey.{DOMAIN}"
    dns = zone(
        {
            f"{name} CNAME": [OLD_TARGET + "."],
            f"{name} TXT": LookupStatus.NODATA,
            f"{OLD_TARGET} TXT": LookupStatus.SERVFAIL,
        },
        follow_cnames=False,
    )
    result = await check_dkim_selector(DOMAIN, "selector1", dns)
    assert result.status == "lookup_failed"


@pytest.mark.parametrize(
    ("record", "status"),
    [("v=DKIM1; k=rsa; p=", "revoked"), ("v=DKIM1; k=rsa; p=%%%", "invalid")],
)
async def test_revoked_and_invalid(record: str, status: str, zone: LabZones) -> None:
    name = f"google._domainkey.{DOMAIN}"
    result = await check_dkim_selector(DOMAIN, "google", zone({f"{name} TXT": [record]}))
    assert result.status == status and result.key is not None


async def test_picks_the_dkim_record_among_other_txt(rsa2048: str, zone: LabZones) -> None:
    name = f"google._domainkey.{DOMAIN}"
    dns = zone({f"{name} TXT": ["some-verification=1", f"p={rsa2048}"]})
    result = await check_dkim_selector(DOMAIN, "google", dns)
    assert result.status == "ok" and result.key is not None and result.key.key_bits == 2048


def test_cname_style() -> None:
    assert cname_style("selector1-x._domainkey.t.onmicrosoft.com.") == "onmicrosoft"
    assert cname_style("dkim.example.net") == "other"
