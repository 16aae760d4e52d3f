"""Benchmark: peak memory of one probe against hostile IMAP peers, and of a normal probe.

Measured with ``tracemalloc`` (Python allocations of the probe; the peer runs in
its own thread but its allocations are traced too, so the figures are an upper
bound), side by side in one run:

1. a normal IMAP probe (a plain-text lab peer: greeting, CAPABILITY, LOGOUT);
2. a peer chaining 4 KiB literals on one response line without end (before the
   budgets, the same peer grew one probe to ~840 MiB);
3. a peer announcing one 50 MiB literal;
4. an SMTP peer sending a 12 MB EHLO reply.

Target: every hostile probe's peak <= 8 MiB and each ends with a verdict
(``io.reply_too_big``), not a crash or a hang.

Usage: .venv/bin/python bench/probe_memory.py
Loopback only (127.0.0.1). Results also go to bench/results/probe_memory.txt.
"""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from probes.mail.model import ProbeResult, Protocol, Security, Target, Timeouts  # noqa: E402
from probes.mail.runner import ProbeOptions, run_probe  # noqa: E402
from tests.labkit.hostile import HostilePeer  # noqa: E402

TARGET_PEAK = 8 * 1024 * 1024
OPTIONS = ProbeOptions(timeouts=Timeouts(2.0, 2.0, 2.0, 2.0, 2.0))
CASES: list[tuple[str, str, Protocol, dict[str, object]]] = [
    ("normal IMAP probe", "tls_on_plain", Protocol.IMAP, {"protocol": "imap"}),
    ("chained 4 KiB literals", "literals", Protocol.IMAP, {"size": 4096}),
    ("one 50 MiB literal", "literals", Protocol.IMAP, {"size": 50 * 1024 * 1024}),
    ("12 MB EHLO", "huge_ehlo", Protocol.SMTP, {"total": 12 * 1024 * 1024}),
]


def measure(
    behaviour: str, protocol: Protocol, options: dict[str, object]
) -> tuple[int, float, ProbeResult]:
    """(peak bytes, seconds, result) of one probe against a fresh peer."""
    with HostilePeer(behaviour, **options) as peer:  # type: ignore[arg-type]
        target = Target(peer.host, peer.port, protocol, Security.NONE)
        tracemalloc.start()
        started = time.perf_counter()
        try:
            result = asyncio.run(run_probe(target, OPTIONS))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak, time.perf_counter() - started, result


def main() -> int:
    """Run every case and print (and store) its peak memory."""
    lines = ["mxpilot probe memory — tracemalloc peak of one probe (peer thread included)"]
    ok = True
    for label, behaviour, protocol, options in CASES:
        peak, seconds, result = measure(behaviour, protocol, options)
        failure = result.failure
        verdict = failure.kind if failure else result.status.value
        hostile = behaviour != "tls_on_plain"
        within = peak <= TARGET_PEAK
        ok &= within or not hostile
        mark = ("OK" if within else "MISSED") if hostile else "-"
        lines.append(
            f"  {label:<24} peak {peak / 1024 / 1024:7.2f} MiB  {seconds * 1000:7.0f} ms  "
            f"{verdict:<18} (target <= {TARGET_PEAK // 1024 // 1024} MiB: {mark})"
        )
        print(lines[-1], flush=True)
    out = ROOT / "bench" / "results" / "probe_memory.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
