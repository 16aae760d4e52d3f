"""Benchmark: what OAuth costs a probe — a cached access token, a refresh, a whole sign-in.

Measured side by side in one run, against the lab on loopback with an injected round-trip
time on every client connection (the SMTP server and the identity provider each behind a
latency proxy; the server's own token introspection is direct, as inside Exchange):

1. an SMTP probe of a password account (AUTH PLAIN) — the baseline;
2. the same probe of an OAuth account whose access token is in memory (AUTH XOAUTH2):
   target ratio to (1) <= 1.05 — a kept token costs nothing;
3. the same, with the token expired first, so the keeper refreshes it over HTTPS before
   the probe: the refresh's cost in round trips (connect, TLS, one POST ≈ 3 RTT);
4. a device code sign-in end to end (code, one pending poll, tokens; no interval) on one
   kept-alive connection;
5. five OAuth accounts whose tokens all expired, their secrets fetched at once (what the
   Probes screen and ``checklist verify`` do): target <= 1.2 x one refresh — refreshes
   run together, not one after another.

Usage: .venv/bin/python bench/oauth_login.py [--rtt 0.05] [--repeat 7]
Results also go to bench/results/oauth_login.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.certs import LabCertificates  # noqa: E402
from mxlab.identity import (  # noqa: E402
    LAB_MS_CLIENT,
    LAB_USER,
    LabIdentityProvider,
    register_lab_accounts,
)
from mxlab.memory_keyring import MemoryKeyring  # noqa: E402
from mxlab.smtp import SmtpLabServer  # noqa: E402
from probes.mail.model import Protocol, Security, Timeouts  # noqa: E402
from probes.mail.runner import ProbeOptions, run_probe  # noqa: E402
from probes.mail.tls import TlsSettings  # noqa: E402
from probes.oauth.endpoints import IdentityPlatform, OAuthApp  # noqa: E402
from probes.status import Status  # noqa: E402
from tests.labkit.latency import LatencyProxy  # noqa: E402
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side  # noqa: E402
from workspace.accounts.targets import account_targets  # noqa: E402
from workspace.auth.sign_in import SignIn  # noqa: E402
from workspace.connection import ConnectionSettings  # noqa: E402
from workspace.secrets import SecretStore  # noqa: E402
from workspace.session import Workspace  # noqa: E402

PASSWORD_USER, PASSWORD = "pw@lab.test", "bench-pass"


def median_wall(job: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median wall time of the coroutine ``job`` over ``repeat`` runs (one event loop each)."""
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        asyncio.run(job())  # type: ignore[arg-type]
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="round-trip time (s)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (median)")
    args = parser.parse_args()
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        certs = LabCertificates.create(base / "certs")
        identity = LabIdentityProvider(certs)
        identity.start()
        stack.callback(identity.stop)
        register_lab_accounts(identity)
        identity.device_interval = 0
        smtp = SmtpLabServer(
            "starttls",
            certs=certs,
            users={PASSWORD_USER: PASSWORD},
            oauth_introspection_url=f"{identity.base_url}/introspect",
            oauth_ca_file=certs.ca_pem,
        )
        smtp.start()
        stack.callback(smtp.stop)
        smtp_proxy = LatencyProxy(smtp.host, smtp.port, args.rtt)
        idp_proxy = LatencyProxy("127.0.0.1", identity.port, args.rtt)
        for proxy in (smtp_proxy, idp_proxy):
            proxy.start()
            stack.callback(proxy.stop)

        ws = Workspace.open(base / "ws.sqlite3", SecretStore(MemoryKeyring()))
        stack.callback(ws.close)
        settings = ConnectionSettings(ca_file=certs.ca_pem, timeout=10.0)
        ws.use_connection(settings)
        endpoint = MailEndpoint("127.0.0.1", smtp_proxy.port, Security.STARTTLS)
        common = {"side": Side.TARGET, "provider": "office365", "roles": (AccountRole.SENDER,)}
        password_account = ws.accounts.add(
            Account(name="pw", address=PASSWORD_USER, smtp=endpoint, **common),  # type: ignore[arg-type]
            PASSWORD,
        )
        oauth_account = ws.accounts.add(
            Account(name="oa", address=LAB_USER, smtp=endpoint, **common)  # type: ignore[arg-type]
        )
        app = OAuthApp(
            IdentityPlatform.MICROSOFT,
            LAB_MS_CLIENT,
            "bench",
            f"https://127.0.0.1:{idp_proxy.port}",
        )
        options = ProbeOptions(
            timeouts=Timeouts(connect=10, tls=10, reply=10),
            tls=TlsSettings(ca_file=certs.ca_pem),
        )

        async def sign_in() -> None:
            identity.auto_approve = LAB_USER
            await SignIn(ws.tokens, ws.accounts.get("oa"), app).device(
                lambda _: None, sleep=_no_wait
            )

        asyncio.run(sign_in())
        oauth_account = ws.accounts.get("oa")

        async def probe(account: Account) -> None:
            secret = await ws.tokens.login_secret(account)
            [target] = account_targets(account, secret, protocols=[Protocol.SMTP])
            result = await run_probe(target, options)
            if result.status is not Status.PASS:
                raise SystemExit(f"probe of {account.name} failed: {result.summary}")

        async def probe_after_expiry() -> None:
            cached = ws.tokens.cached(oauth_account)
            assert cached is not None
            ws.tokens.remember(oauth_account, replace(cached, expires_at=datetime.now(UTC)))
            await probe(oauth_account)

        many = [
            ws.accounts.add(
                Account(name=f"oa{n}", address=LAB_USER, smtp=endpoint, **common)  # type: ignore[arg-type]
            )
            for n in range(5)
        ]
        for account in many:
            identity.auto_approve = LAB_USER
            asyncio.run(SignIn(ws.tokens, account, app).device(lambda _: None, sleep=_no_wait))
        many = [ws.accounts.get(a.name) for a in many]

        def expire(accounts: list[Account]) -> None:
            for account in accounts:
                cached = ws.tokens.cached(account)
                assert cached is not None
                ws.tokens.remember(account, replace(cached, expires_at=datetime.now(UTC)))

        async def refresh_one() -> None:
            expire(many[:1])
            await ws.tokens.login_secrets(many[:1])

        async def refresh_five_in_turn() -> None:
            expire(many)
            for account in many:
                await ws.tokens.login_secret(account)

        async def refresh_five() -> None:
            expire(many)
            found = await ws.tokens.login_secrets(many)
            assert all(secret for secret, _ in found.values())

        asyncio.run(probe(password_account))  # warm up (imports, TLS contexts)
        password_s = median_wall(lambda: probe(password_account), args.repeat)
        cached_s = median_wall(lambda: probe(oauth_account), args.repeat)
        refresh_s = median_wall(probe_after_expiry, args.repeat)
        sign_in_s = median_wall(sign_in, args.repeat)
        one_s = median_wall(refresh_one, args.repeat)
        five_s = median_wall(refresh_five, args.repeat)
        in_turn_s = median_wall(refresh_five_in_turn, args.repeat)

    rtt_ms = args.rtt * 1000
    say(f"oauth_login (RTT {rtt_ms:.0f} ms on client connections, median of {args.repeat})")
    say(f"  SMTP probe, password account (AUTH PLAIN):        {password_s * 1000:7.1f} ms")
    say(
        f"  SMTP probe, OAuth account, token in memory:       {cached_s * 1000:7.1f} ms"
        f"  = {cached_s / password_s:.3f} x password (target <= 1.05)"
    )
    extra = refresh_s - cached_s
    say(
        f"  SMTP probe, OAuth account, token refreshed first: {refresh_s * 1000:7.1f} ms"
        f"  = +{extra * 1000:.1f} ms = {extra / args.rtt:.1f} RTT for the refresh"
    )
    say(
        f"  device code sign-in (code, 1 pending poll, tokens): {sign_in_s * 1000:5.1f} ms"
        f" = {sign_in_s / args.rtt:.1f} RTT"
    )
    say(
        f"  5 expired tokens refreshed together:             {five_s * 1000:7.1f} ms"
        f"  = {five_s / one_s:.2f} x one refresh ({one_s * 1000:.1f} ms; target <= 1.2)"
    )
    say(f"  5 expired tokens refreshed one after another:   {in_turn_s * 1000:7.1f} ms (before)")
    out = ROOT / "bench" / "results" / "oauth_login.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
