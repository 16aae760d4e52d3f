"""Fetching the MTA-STS policy over HTTPS (RFC 8461 §3.3), bounded in time and size.

``fetch_policy`` never raises for network trouble: it tells a refused
connection, a timeout, a certificate that does not verify, an HTTP status, a
redirect (forbidden by RFC 8461), an oversize body and a bad policy apart in
``PolicyFetch.error_kind``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import httpx

from probes.dns import stored
from probes.dns.mtasts.policy import StsPolicy, parse_policy

POLICY_PATH = "/.well-known/mta-sts.txt"
POLICY_SIZE_LIMIT = 64 * 1024

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
_ERROR_KINDS: tuple[FetchErrorKind, ...] = get_args(FetchErrorKind)


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyFetch:
        """The fetch :meth:`to_dict` wrote; :class:`~probes.dns.stored.StoredAuditError` if not."""
        what = "MTA-STS fetch"
        data = stored.record(data, what)
        policy = data.get("policy")
        kind = stored.optional_text(data, "error_kind", what)
        error_kind = next((k for k in _ERROR_KINDS if k == kind), None)
        if kind is not None and error_kind is None:
            raise stored.StoredAuditError(f"{what}.error_kind: {kind!r:.40} is not known")
        return cls(
            url=stored.text(data, "url", what),
            host=stored.text(data, "host", what),
            address=stored.optional_text(data, "address", what),
            port=stored.integer(data, "port", what),
            status_code=stored.optional_integer(data, "status_code", what),
            content_type=stored.optional_text(data, "content_type", what),
            size=stored.optional_integer(data, "size", what),
            policy=None if policy is None else StsPolicy.from_dict(policy),
            error_kind=error_kind,
            error=stored.optional_text(data, "error", what),
            warnings=stored.text_list(data, "warnings", what),
        )


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
