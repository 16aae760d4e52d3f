"""Benchmark: probe concurrency and round trips, through a loopback latency proxy.

Runs the lab's servers (aiosmtpd submission/STARTTLS, implicit TLS, relay;
Dovecot IMAP/IMAPS when installed) behind ``LatencyProxy`` instances that add
a set round-trip time, then prints, measured side by side in one run:

1. matrix wall time / slowest single probe — target <= 1.1 (probes run
   concurrently, so a full matrix costs about its slowest probe);
2. one SMTP submission probe's wall time / (RTT x its round trips) — target
   <= 1.15 (no sleeps, no serial waits beyond the protocol's own).

Round-trip model of the SMTP 587 probe through the proxy: connect 1 (the
proxy holds the upstream connect for one RTT, as a TCP handshake costs),
banner 0.5 (one way), EHLO 1, STARTTLS 1, TLS 1.3 handshake 1, EHLO 1,
AUTH 1 = 6.5 RTT. QUIT is sent without waiting for its reply.

Usage: .venv/bin/python bench/probe_latency.py [--rtt 0.05] [--repeat 5]
Loopback only (127.0.0.1). Results also go to bench/results/probe_latency.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.certs import LabCertificates  # noqa: E402
from mxlab.smtp import DEFAULT_USERS, SmtpLabServer  # noqa: E402
from probes.mail.matrix import run_matrix  # noqa: E402
from probes.mail.model import Credentials, Protocol, Timeouts  # noqa: E402
from probes.mail.presets import PRESETS, Role  # noqa: E402
from probes.mail.runner import ProbeOptions, run_probe  # noqa: E402
from probes.mail.tls import TlsSettings  # noqa: E402
from probes.status import Status  # noqa: E402
from tests.labkit.latency import LatencyProxy  # noqa: E402

SMTP_ROUND_TRIPS = 6.5
IMAP_USER, IMAP_PASSWORD = "bench@lab.test", "bench-imap-pass"


def _median_wall(job: object, repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        asyncio.run(job())  # type: ignore[operator]
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="round-trip time in seconds")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args()
    rtt = args.rtt
    user, password = next(iter(DEFAULT_USERS.items()))
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        certs = LabCertificates.create(Path(tmp) / "certs")
        servers = {
            Role.SUBMISSION: SmtpLabServer("starttls", certs=certs),
            Role.SMTPS: SmtpLabServer("tls", certs=certs),
            Role.RELAY: SmtpLabServer("starttls", certs=certs),
        }
        ports: dict[Role, int] = {}
        for role, server in servers.items():
            server.start()
            stack.callback(server.stop)
            proxy = LatencyProxy(server.host, server.port, rtt)
            proxy.start()
            stack.callback(proxy.stop)
            ports[role] = proxy.port
        imap_note = "IMAP: Dovecot not installed, matrix is SMTP only"
        try:
            from tests.labkit.dovecot import DovecotLab

            if DovecotLab.available() is None:
                lab = DovecotLab(
                    Path(tmp) / "dovecot",
                    cert_pem=certs.cert_pem,
                    key_pem=certs.key_pem,
                    users={IMAP_USER: IMAP_PASSWORD},
                    messages={IMAP_USER: 2},
                )
                lab.start()
                stack.callback(lab.stop)
                for role, port in ((Role.IMAPS, lab.imaps_port), (Role.IMAP, lab.imap_port)):
                    proxy = LatencyProxy(lab.host, port, rtt)
                    proxy.start()
                    stack.callback(proxy.stop)
                    ports[role] = proxy.port
                imap_note = "IMAP: Dovecot 993-style and 143-style ports included"
        except ImportError:
            pass

        preset = PRESETS["custom"].with_host("127.0.0.1").with_ports(ports)
        options = ProbeOptions(
            timeouts=Timeouts(resolve=5, connect=5, tls=5, reply=5, detect=5),
            tls=TlsSettings(ca_file=certs.ca_pem),
        )
        smtp_creds = Credentials(user, password)
        imap_creds = Credentials(IMAP_USER, IMAP_PASSWORD)

        def creds_for(protocol: Protocol) -> Credentials:
            return smtp_creds if protocol is Protocol.SMTP else imap_creds

        say(f"mxpilot probe benchmark — RTT {rtt * 1000:.0f} ms, median of {args.repeat} runs")
        say(imap_note)
        singles: dict[str, float] = {}
        for endpoint in preset.endpoints:
            target = endpoint.target(creds_for(endpoint.protocol))

            async def one(t: object = target) -> None:
                result = await run_probe(t, options)  # type: ignore[arg-type]
                if result.status is Status.FAIL:
                    raise SystemExit(f"probe failed: {result.failure}")

            singles[endpoint.role.value] = _median_wall(one, args.repeat)
            say(f"  single {endpoint.role.value:<11} {singles[endpoint.role.value] * 1000:8.1f} ms")

        async def matrix() -> None:
            # credentials per protocol: run the matrix's targets as the CLI would
            from probes.mail.runner import run_probes

            targets = [e.target(creds_for(e.protocol)) for e in preset.endpoints]
            results = await run_probes(targets, options)
            assert all(r.status is not Status.FAIL for r in results)

        async def matrix_smtp_only() -> None:
            await run_matrix(preset, smtp_creds, options)

        matrix_wall = _median_wall(matrix, args.repeat)
        slowest_role = max(singles, key=singles.__getitem__)
        slowest = singles[slowest_role]
        ratio = matrix_wall / slowest
        say(f"  matrix ({len(preset.endpoints)} probes)  {matrix_wall * 1000:8.1f} ms")
        say(
            f"matrix / slowest single ({slowest_role}) = {ratio:.3f}   "
            f"(target <= 1.10: {'OK' if ratio <= 1.1 else 'MISSED'})"
        )
        _median_wall(matrix_smtp_only, 1)  # the public run_matrix path works end to end

        expected = rtt * SMTP_ROUND_TRIPS
        submission = singles[Role.SUBMISSION.value]
        probe_ratio = submission / expected
        say(
            f"submission probe / (RTT x {SMTP_ROUND_TRIPS} round trips = {expected * 1000:.0f} ms)"
            f" = {probe_ratio:.3f}   (target <= 1.15: {'OK' if probe_ratio <= 1.15 else 'MISSED'})"
        )
    out = ROOT / "bench" / "results" / "probe_latency.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
