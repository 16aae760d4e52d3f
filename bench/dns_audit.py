"""Benchmark: a full DNS audit against the lab, lookups concurrent, vs the sum of its lookups.

The lab DNS server answers every query after a set delay (default 20 ms,
answers overlapping), so each lookup costs at least that. The audit of a
ready Microsoft 365 domain runs all its checks concurrently through one
cached client; this prints its wall time, the number of lookups, their summed
time, and the ratio wall / sum (well below 1 means the lookups overlap).

Usage: .venv/bin/python bench/dns_audit.py [--delay 0.02] [--repeat 5]
Loopback only. Results also go to bench/results/dns_audit.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.dns_server import DnsLab  # noqa: E402
from mxlab.dns_zones import full_lab  # noqa: E402
from probes.dns.audit import audit_domain  # noqa: E402
from probes.dns.client import DnsClient  # noqa: E402
from probes.dns.model import Lookup  # noqa: E402
from probes.dns.profiles import Profile  # noqa: E402
from probes.mail.resolve import Nameserver  # noqa: E402


class TimedClient(DnsClient):
    """A DnsClient that records how long each real query took."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.durations: list[float] = []

    async def _query(self, name: str, rtype: str) -> Lookup:
        started = time.perf_counter()
        try:
            return await super()._query(name, rtype)
        finally:
            self.durations.append(time.perf_counter() - started)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    lab = DnsLab(delay=args.delay)
    full_lab(lab)
    lab.start()
    walls, sums, counts = [], [], []
    try:
        for _ in range(args.repeat):
            client = TimedClient([Nameserver(lab.host, lab.port)], 2.0)
            started = time.perf_counter()
            audit = asyncio.run(audit_domain("eleven.lab.test", Profile.OFFICE365, client))
            walls.append(time.perf_counter() - started)
            sums.append(sum(client.durations))
            counts.append(len(client.durations))
            assert audit.checks
    finally:
        lab.stop()
    wall, total = statistics.median(walls), statistics.median(sums)
    lines = [
        f"mxpilot DNS audit benchmark — server delay {args.delay * 1000:.0f} ms per answer, "
        f"median of {args.repeat} runs, domain eleven.lab.test (11-lookup SPF tree)",
        f"  lookups: {statistics.median(counts):.0f}",
        f"  sum of lookup times: {total * 1000:8.1f} ms",
        f"  audit wall time:     {wall * 1000:8.1f} ms",
        f"  wall / sum = {wall / total:.3f}  (1.0 would be fully serial)",
    ]
    for line in lines:
        print(line)
    out = ROOT / "bench" / "results" / "dns_audit.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
