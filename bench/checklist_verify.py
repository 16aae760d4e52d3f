"""Benchmark: the workspace — checklist verification concurrency, commit latency, imports.

Measured side by side in one run, against the lab on loopback:

1. ``checklist verify`` of every item with a check (SMTP and IMAP logins of the
   accounts through a latency proxy, one DNS audit per profile from a DNS
   server that answers after a delay, every result stored and applied) versus
   the slowest single part run alone (one probe, or one audit) — target
   <= 1.10, the DESIGN's "a full account run costs its slowest probe";
2. the commit latency of one checklist change (WAL, synchronous=FULL), median;
3. importing a 500-row migration CSV into accounts (parse, validate, one
   transaction, 500 keyring writes to an in-memory backend).

Usage: .venv/bin/python bench/checklist_verify.py [--rtt 0.05] [--delay 0.02] [--repeat 5]
Results also go to bench/results/checklist_verify.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.certs import LabCertificates  # noqa: E402
from mxlab.dns_server import DnsLab  # noqa: E402
from mxlab.dns_zones import full_lab  # noqa: E402
from mxlab.memory_keyring import MemoryKeyring  # noqa: E402
from mxlab.smtp import DEFAULT_USERS, SmtpLabServer  # noqa: E402
from probes.dns.audit import audit_domain  # noqa: E402
from probes.dns.client import DnsClient  # noqa: E402
from probes.mail.model import Security, Timeouts  # noqa: E402
from probes.mail.resolve import Nameserver  # noqa: E402
from probes.mail.runner import ProbeOptions, run_probe  # noqa: E402
from probes.mail.tls import TlsSettings  # noqa: E402
from tests.labkit.latency import LatencyProxy  # noqa: E402
from workspace.accounts.book import NewAccount  # noqa: E402
from workspace.accounts.model import Account, AccountRole, MailEndpoint, Side  # noqa: E402
from workspace.accounts.targets import account_targets  # noqa: E402
from workspace.checklist.check_spec import CheckKind  # noqa: E402
from workspace.imports.migration_csv import parse_migration_csv, plan_csv_accounts  # noqa: E402
from workspace.secrets import SecretStore  # noqa: E402
from workspace.session import Workspace  # noqa: E402
from workspace.usecases.verify_checklist import ChecklistVerifier  # noqa: E402

DOMAIN = "m365.lab.test"
IMAP_USER, IMAP_PASSWORD = "bench@lab.test", "bench-imap-pass"


def median_wall(job: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``job`` over ``repeat`` runs."""
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="probe round-trip time (s)")
    parser.add_argument("--delay", type=float, default=0.02, help="DNS answer delay (s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args()
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        certs = LabCertificates.create(base / "certs")
        user, password = next(iter(DEFAULT_USERS.items()))
        smtp = SmtpLabServer("starttls", certs=certs, users={user: password})
        smtp.start()
        stack.callback(smtp.stop)
        proxies: list[LatencyProxy] = []
        smtp_proxy = LatencyProxy(smtp.host, smtp.port, args.rtt)
        proxies.append(smtp_proxy)
        imap_port = None
        from tests.labkit.dovecot import DovecotLab

        if DovecotLab.available() is None:
            dovecot = DovecotLab(
                base / "dovecot",
                cert_pem=certs.cert_pem,
                key_pem=certs.key_pem,
                users={IMAP_USER: IMAP_PASSWORD},
                messages={IMAP_USER: 1},
            )
            dovecot.start()
            stack.callback(dovecot.stop)
            imap_proxy = LatencyProxy(dovecot.host, dovecot.imaps_port, args.rtt)
            proxies.append(imap_proxy)
        for proxy in proxies:
            proxy.start()
            stack.callback(proxy.stop)
        if len(proxies) > 1:
            imap_port = proxies[1].port
        dns = DnsLab(delay=args.delay)
        full_lab(dns)
        dns.start()
        stack.callback(dns.stop)

        backend = MemoryKeyring()
        ws = Workspace.open(base / "ws.sqlite3", SecretStore(backend))
        stack.callback(ws.close)
        ws.accounts.add(
            Account(
                name="sender",
                address=user,
                side=Side.TARGET,
                provider="office365",
                roles=(AccountRole.SENDER,),
                smtp=MailEndpoint("127.0.0.1", smtp_proxy.port, Security.STARTTLS),
            ),
            password,
        )
        if imap_port is not None:
            for side, role in ((Side.TARGET, AccountRole.MONITORING), (Side.SOURCE, None)):
                ws.accounts.add(
                    Account(
                        name=f"reader-{side.value}",
                        address=IMAP_USER,
                        side=side,
                        provider="office365" if side is Side.TARGET else "gmail",
                        roles=(role or AccountRole.MIGRATION, AccountRole.ORDER_INBOX),
                        imap=MailEndpoint("127.0.0.1", imap_port, Security.TLS),
                    ),
                    IMAP_PASSWORD,
                )
        options = ProbeOptions(
            timeouts=Timeouts(resolve=5, connect=5, tls=5, reply=5, detect=5),
            tls=TlsSettings(ca_file=certs.ca_pem),
        )
        checklist = ws.checklists.create(DOMAIN, tenant="labtenant")
        checked = [i for i in checklist.items if i.check is not None]
        probes = sum(1 for i in checked if i.check and i.check.kind is CheckKind.PROBE)
        profiles = sorted({i.check.profile for i in checked if i.check and i.check.profile})
        say(
            f"mxpilot workspace benchmark — probe RTT {args.rtt * 1000:.0f} ms, DNS delay "
            f"{args.delay * 1000:.0f} ms, median of {args.repeat} runs"
        )
        say(
            f"checklist: {len(checked)} items with a check ({probes} probe items over "
            f"{len(ws.accounts.list())} accounts, {len(checked) - probes} DNS items over "
            f"{len(profiles)} profiles)" + ("" if imap_port else "; Dovecot missing: SMTP only")
        )

        singles: dict[str, float] = {}
        for account in ws.accounts.list():
            for target in account_targets(account, ws.accounts.secret(account)):
                label = f"probe {account.name} {target.protocol.value}"
                singles[label] = median_wall(
                    lambda t=target: asyncio.run(run_probe(t, options)),  # type: ignore[misc]
                    args.repeat,
                )
        for profile in profiles:
            fresh = lambda p=profile: asyncio.run(  # noqa: E731
                audit_domain(
                    DOMAIN,
                    p,  # type: ignore[arg-type]
                    DnsClient([Nameserver("127.0.0.1", dns.port)], timeout=3.0),
                    tenant="labtenant",
                )
            )
            singles[f"dns audit {profile}"] = median_wall(fresh, args.repeat)
        for label, wall in singles.items():
            say(f"  single {label:<28} {wall * 1000:8.1f} ms")

        def verify() -> None:
            fresh_client = DnsClient([Nameserver("127.0.0.1", dns.port)], timeout=3.0)
            verifier = ChecklistVerifier(ws, options, fresh_client)
            asyncio.run(verifier.run(ws.checklists.get()))

        verify_wall = median_wall(verify, args.repeat)
        slowest = max(singles, key=singles.__getitem__)
        ratio = verify_wall / singles[slowest]
        say(f"  checklist verify (all)            {verify_wall * 1000:8.1f} ms")
        say(
            f"verify / slowest single ({slowest}) = {ratio:.3f}   "
            f"(target <= 1.10: {'OK' if ratio <= 1.1 else 'MISSED'})"
        )
        verified = sum(1 for i in ws.checklists.get().items if i.status_label == "verified")
        say(f"  items verified after the runs: {verified} of {len(checked)}")

        item_id = checklist.items[0].item_id
        counter = iter(range(10**9))
        commit = median_wall(
            lambda: ws.checklists.set_note(checklist, item_id, f"note {next(counter)}"),
            max(args.repeat, 50),
        )
        say(f"checklist change committed (WAL, synchronous=FULL), median: {commit * 1000:.2f} ms")

        rows = "\n".join(
            f"user{n}@{DOMAIN},user{n}@gmail.com,app-pass-{n:04d}-xyz" for n in range(500)
        )
        text = "EmailAddress,UserName,Password\n" + rows + "\n"
        started = time.perf_counter()
        parsed = parse_migration_csv(text)
        planned = plan_csv_accounts(parsed, existing_names=ws.accounts.names())
        ws.accounts.add_many([NewAccount(a, s) for a, s in planned])
        imported = time.perf_counter() - started
        say(f"migration CSV, 500 rows parsed, validated and imported: {imported * 1000:.0f} ms")
    out = ROOT / "bench" / "results" / "checklist_verify.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
