"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): the TXT records, the policy, and its fetch.

The parsers never raise: any text gives a result whose ``errors`` say what is
wrong. ``fetch_policy`` never raises for network trouble either: it tells a
refused connection, a timeout, a certificate that does not verify, an HTTP
status, a redirect (forbidden by RFC 8461), an oversize body and a bad policy
apart in ``PolicyFetch.error_kind``.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx

POLICY_PATH = "/.well-known/mta-sts.txt"
POLICY_SIZE_LIMIT = 64 * 1024
MAX_AGE_LIMIT = 31_557_600  # one year (RFC 8461 §3.2)
MIN_ENFORCE_MAX_AGE = 86_400  # one day; RFC 8461 suggests weeks
STS_MODES = ("enforce", "testing", "none")

FetchErrorKind = Literal[
    "connect_refused",
    "connect_failed",
    "timeout",
    "tls",
    "redirect",
    "http_status",
    "oversize",
    "policy",
    "protocol",
]

_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_MAX_AGE = re.compile(r"[0-9]{1,10}\Z")


@dataclass
class StsTxt:
    """The ``_mta-sts.<domain>`` TXT record: ``v=STSv1; id=…;``."""

    record: str
    version: str | None = None
    id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


@dataclass
class TlsRptRecord:
    """The ``_smtp._tls.<domain>`` TXT record: ``v=TLSRPTv1; rua=mailto:…,https://…``."""

    record: str
    version: str | None = None
    rua: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


@dataclass
class StsPolicy:
    """The policy file served at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``."""

    text: str
    version: str | None = None
    mode: str | None = None
    mx: list[str] = field(default_factory=list)
    max_age: int | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "version": self.version,
            "mode": self.mode,
            "mx": list(self.mx),
            "max_age": self.max_age,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def _tag_list(text: str, errors: list[str], warnings: list[str]) -> list[tuple[str, str]]:
    """``name=value; name=value;`` as RFC 8460/8461 write TXT records."""
    pairs: list[tuple[str, str]] = []
    parts = [part.strip() for part in text.split(";")]
    if parts and not parts[-1]:
        parts.pop()
    seen: set[str] = set()
    for part in parts:
        if not part:
            errors.append("empty field (two ';' in a row)")
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not _FIELD_NAME.match(name):
            errors.append(f"{part[:40]!r} is not a name=value field")
            continue
        if name in seen:
            warnings.append(f"field {name}= appears twice; the first one counts")
            continue
        seen.add(name)
        pairs.append((name, value.strip()))
    return pairs


def _check_version(pairs: list[tuple[str, str]], expected: str, errors: list[str]) -> str | None:
    """The ``v=`` field, which must come first and be exactly ``expected``."""
    version = dict(pairs).get("v")
    if version is None:
        errors.append(f"no v= field (v={expected} must come first)")
    elif pairs[0][0] != "v":
        errors.append(f"v={version} must be the first field")
    elif version != expected:
        errors.append(f"v={version}: the version must be {expected}")
    return version


def parse_sts_txt(text: str) -> StsTxt:
    """Parse an ``_mta-sts`` TXT record; never raises."""
    result = StsTxt(record=text)
    pairs = _tag_list(text, result.errors, result.warnings)
    result.tags = dict(pairs)
    result.version = _check_version(pairs, "STSv1", result.errors)
    result.id = result.tags.get("id")
    if result.id is None:
        result.errors.append("no id= field: senders cannot tell when the policy changes")
    elif not _STS_ID.match(result.id):
        result.errors.append(f"id={result.id[:40]}: the id must be 1 to 32 letters or digits")
    return result


def parse_tlsrpt(text: str) -> TlsRptRecord:
    """Parse an ``_smtp._tls`` TXT record; never raises."""
    result = TlsRptRecord(record=text)
    pairs = _tag_list(text, result.errors, result.warnings)
    result.tags = dict(pairs)
    result.version = _check_version(pairs, "TLSRPTv1", result.errors)
    rua = result.tags.get("rua")
    if rua is None:
        result.errors.append("no rua= field: reports have nowhere to go")
        return result
    for uri in (u.strip() for u in rua.split(",")):
        lowered = uri.lower()
        if not uri:
            result.errors.append("rua= holds an empty address")
        elif lowered.startswith("mailto:"):
            if "@" not in uri[len("mailto:") :]:
                result.errors.append(f"rua {uri[:60]}: not an e-mail address")
            else:
                result.rua.append(uri)
        elif lowered.startswith("https://"):
            result.rua.append(uri)
        elif lowered.startswith("http://"):
            result.errors.append(f"rua {uri[:60]}: reports must go over https, not http")
        else:
            result.errors.append(f"rua {uri[:60]}: only mailto: and https: are allowed")
    return result


def parse_policy(text: str) -> StsPolicy:
    """Parse an MTA-STS policy (CRLF or LF lines of ``key: value``); never raises."""
    policy = StsPolicy(text=text)
    single: dict[str, str] = {}
    for number, raw in enumerate(re.split(r"\r?\n", text), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not _FIELD_NAME.match(key):
            policy.errors.append(f"line {number} {line[:40]!r} is not 'key: value'")
            continue
        policy.fields.append((key, value))
        if key == "mx":
            _add_mx(policy, value)
        elif key in ("version", "mode", "max_age"):
            if key in single:
                policy.warnings.append(f"{key} appears twice; the first one counts")
            else:
                single[key] = value
    _read_single_fields(policy, single)
    return policy


def _add_mx(policy: StsPolicy, pattern: str) -> None:
    """One ``mx:`` line: a host name or ``*.`` and a host name."""
    host = pattern[2:] if pattern.startswith("*.") else pattern
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        policy.errors.append(f"mx: {pattern[:60]!r} is not a host name or *.host pattern")
        return
    policy.mx.append(pattern.rstrip(".").lower())


def _read_single_fields(policy: StsPolicy, single: dict[str, str]) -> None:
    """version, mode and max_age: each required once."""
    policy.version = single.get("version")
    if policy.version is None:
        policy.errors.append("no version field (version: STSv1)")
    elif policy.version != "STSv1":
        policy.errors.append(f"version: {policy.version[:40]}: must be STSv1")
    policy.mode = single.get("mode")
    if policy.mode is None:
        policy.errors.append("no mode field (enforce, testing or none)")
    elif policy.mode not in STS_MODES:
        policy.errors.append(f"mode: {policy.mode[:40]}: must be enforce, testing or none")
    elif policy.mode != "none" and not policy.mx:
        policy.errors.append(f"mode {policy.mode} without any mx line: no MX can be used")
    age = single.get("max_age")
    if age is None:
        policy.errors.append("no max_age field")
    elif not _MAX_AGE.match(age):
        policy.errors.append(f"max_age: {age[:40]}: must be a number of seconds")
    else:
        policy.max_age = int(age)
        if policy.max_age > MAX_AGE_LIMIT:
            policy.errors.append(f"max_age {policy.max_age} is above {MAX_AGE_LIMIT} (one year)")
        elif policy.mode == "enforce" and policy.max_age < MIN_ENFORCE_MAX_AGE:
            policy.warnings.append(
                f"max_age {policy.max_age} is below one day ({MIN_ENFORCE_MAX_AGE}): "
                "senders forget the policy too soon; use weeks (e.g. 604800)"
            )


def mx_matches(pattern: str, host: str) -> bool:
    """True when an MTA-STS ``mx`` pattern covers ``host`` (``*.`` is exactly one label)."""
    pattern = pattern.rstrip(".").lower()
    host = host.rstrip(".").lower()
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def policy_covers(policy: StsPolicy, mx_hosts: Iterable[str]) -> list[str]:
    """The MX hosts that no ``mx`` pattern of the policy matches (empty: all covered)."""
    return [
        host for host in mx_hosts if not any(mx_matches(pattern, host) for pattern in policy.mx)
    ]


@dataclass
class PolicyFetch:
    """The outcome of fetching a policy: HTTP facts, the policy, or why it failed."""

    url: str
    host: str
    address: str | None = None
    port: int = 443
    status_code: int | None = None
    content_type: str | None = None
    size: int | None = None
    policy: StsPolicy | None = None
    error_kind: FetchErrorKind | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when a valid policy was fetched."""
        return self.error_kind is None and self.policy is not None

    def fail(self, kind: FetchErrorKind, text: str) -> None:
        """Record why the fetch failed."""
        self.error_kind = kind
        self.error = text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "url": self.url,
            "host": self.host,
            "address": self.address,
            "port": self.port,
            "status_code": self.status_code,
            "content_type": self.content_type,
            "size": self.size,
            "policy": None if self.policy is None else self.policy.to_dict(),
            "error_kind": self.error_kind,
            "error": self.error,
            "warnings": list(self.warnings),
        }


async def fetch_policy(
    domain: str,
    *,
    address: str | None = None,
    port: int = 443,
    verify: ssl.SSLContext | bool = True,
    timeout: float = 8.0,
) -> PolicyFetch:
    """GET ``https://mta-sts.<domain>/.well-known/mta-sts.txt`` (no redirects); never raises.

    With ``address``, connect to that IP and ``port`` while SNI, the Host header
    and certificate verification keep using ``mta-sts.<domain>``.
    """
    host = f"mta-sts.{domain.rstrip('.').lower()}"
    suffix = "" if port == 443 else f":{port}"
    fetch = PolicyFetch(f"https://{host}{suffix}{POLICY_PATH}", host, address, port)
    target = host if address is None else (f"[{address}]" if ":" in address else address)
    url = f"https://{target}{suffix}{POLICY_PATH}"
    deadline = 2 * timeout  # httpx times each phase; this bounds a slow drip of many chunks
    try:
        async with asyncio.timeout(deadline):
            await _get(fetch, url, verify, timeout)
    except TimeoutError:
        fetch.fail("timeout", f"no complete answer from {_where(fetch)} within {deadline:g} s")
    except httpx.ConnectTimeout:
        fetch.fail(
            "timeout", f"no connection to {_where(fetch)} (TCP and TLS) within {timeout:g} s"
        )
    except httpx.TimeoutException as exc:
        fetch.fail("timeout", f"{_where(fetch)}: {type(exc).__name__} after {timeout:g} s")
    except (httpx.ConnectError, ssl.SSLError, ConnectionRefusedError) as exc:
        _connect_failure(fetch, exc)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        fetch.fail("protocol", f"{_where(fetch)}: {_reason(exc)}")
    return fetch


async def _get(fetch: PolicyFetch, url: str, verify: ssl.SSLContext | bool, timeout: float) -> None:
    """The request itself; fills ``fetch`` or raises httpx/OS errors."""
    async with httpx.AsyncClient(
        verify=verify, follow_redirects=False, timeout=httpx.Timeout(timeout), trust_env=False
    ) as client:
        request = client.build_request(
            "GET",
            url,
            headers={"Host": fetch.host, "Accept": "text/plain"},
            extensions={"sni_hostname": fetch.host},
        )
        response = await client.send(request, stream=True)
        try:
            await _read_response(fetch, response)
        finally:
            await response.aclose()


async def _read_response(fetch: PolicyFetch, response: httpx.Response) -> None:
    """Status, content type, size limit, then the policy."""
    fetch.status_code = response.status_code
    fetch.content_type = response.headers.get("content-type")
    if response.is_redirect or 300 <= response.status_code < 400:
        location = response.headers.get("location", "?")
        fetch.fail(
            "redirect",
            f"HTTP {response.status_code} redirect to {location[:120]} refused: "
            "RFC 8461 forbids redirects for the policy",
        )
        return
    if response.status_code != 200:
        fetch.fail("http_status", f"HTTP {response.status_code} {response.reason_phrase}".strip())
        return
    media = (fetch.content_type or "").split(";")[0].strip().lower()
    if media != "text/plain":
        fetch.warnings.append(
            f"Content-Type is {fetch.content_type or 'missing'}: RFC 8461 requires text/plain"
        )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > POLICY_SIZE_LIMIT:
        fetch.fail("oversize", f"the policy is {declared} bytes; the limit is 64 KiB")
        return
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > POLICY_SIZE_LIMIT:
            fetch.fail("oversize", "the policy is larger than 64 KiB")
            return
    fetch.size = len(body)
    policy = parse_policy(body.decode("utf-8", "replace"))
    fetch.policy = policy
    if policy.errors:
        fetch.fail("policy", "; ".join(policy.errors))


def _connect_failure(fetch: PolicyFetch, exc: BaseException) -> None:
    """Tell a refused connection, a TLS failure and other connect errors apart."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or str(cause)
            fetch.fail("tls", f"certificate of {fetch.host} does not verify: {reason}")
            return
        if isinstance(cause, ssl.SSLError):
            fetch.fail("tls", f"TLS with {_where(fetch)} failed: {cause.reason or cause}")
            return
        if isinstance(cause, ConnectionRefusedError):
            fetch.fail("connect_refused", f"{_where(fetch)} refused the connection")
            return
    fetch.fail("connect_failed", f"cannot connect to {_where(fetch)}: {_reason(exc)}")


def _causes(exc: BaseException) -> Sequence[BaseException]:
    """The exception and what it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _where(fetch: PolicyFetch) -> str:
    """``mta-sts.example.com`` or ``mta-sts.example.com (192.0.2.1:443)``."""
    if fetch.address is None:
        return f"{fetch.host}:{fetch.port}"
    return f"{fetch.host} ({fetch.address}:{fetch.port})"


def _reason(exc: BaseException) -> str:
    """A one-line reason for an exception."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
