"""Benchmark: ``accounts import-csv`` scaling — rows/second at 500, 2,000 and 20,000 rows.

Measured side by side in one run, each size on a fresh workspace file (WAL,
synchronous=FULL) with secrets in the in-memory keyring the tests use:
read the CSV file, plan the accounts (names unique against the workspace and
the file), create them (batched commits when the workspace offers them).
Two files per size, made by :func:`migration_csv`:

- ``realistic``: Microsoft's IMAP migration CSV (``EmailAddress,UserName,Password``)
  for a merger of several Google Workspace domains: first.last local parts
  repeat across domains, as names do;
- ``shared``: every source mailbox has the same local part (``info@`` of
  many domains), the worst case for unique account names.

Per-row time is wall time / rows, best of the runs (other work shares the machine);
target: largest / smallest per-row time <= 1.5.

Usage: .venv/bin/python bench/csv_import.py [--sizes 500,2000,20000] [--repeat 5]
Results also go to bench/results/csv_import.txt.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mxlab.memory_keyring import MemoryKeyring  # noqa: E402
from workspace.accounts.book import NewAccount  # noqa: E402
from workspace.imports.migration_csv import plan_csv_accounts, read_migration_csv  # noqa: E402
from workspace.secrets import SecretStore  # noqa: E402
from workspace.session import Workspace  # noqa: E402

FIRST = ("anna", "ben", "carla", "dev", "elif", "femi", "greta", "hiro", "ines", "jon")
LAST = ("adams", "beebe", "chen", "diaz", "eze", "fox", "gupta", "hale", "ito", "jones")
DOMAINS = 12
TARGET_RATIO = 1.5


def migration_csv(rows: int, kind: str = "realistic") -> str:
    """A migration CSV of ``rows`` mailboxes (``realistic`` or ``shared`` local parts)."""
    lines = ["EmailAddress,UserName,Password"]
    for n in range(rows):
        domain = f"school{n % DOMAINS}.example"
        if kind == "shared":
            local = "info"
        else:
            person = n // DOMAINS
            local = f"{FIRST[person % 10]}.{LAST[person // 10 % 10]}{person // 100 or ''}"
        lines.append(f"{local}.{n}@contoso.example,{local}@{domain},Pw-{n:06d}-x!")
    return "\n".join(lines) + "\n"


def import_once(path: Path, directory: Path) -> float:
    """Wall time of one import of the CSV at ``path`` into a fresh workspace."""
    backend = MemoryKeyring()
    with Workspace.open(directory / "ws.sqlite3", SecretStore(backend)) as ws:
        started = time.perf_counter()
        parsed = read_migration_csv(path)
        planned = plan_csv_accounts(parsed, existing_names=ws.accounts.names())
        new = [NewAccount(account, secret) for account, secret in planned]
        batched = getattr(ws.accounts, "add_in_batches", None)
        created = batched(new) if batched is not None else ws.accounts.add_many(new)
        wall = time.perf_counter() - started
        assert not parsed.problems and len(created) == len(parsed.rows)
        assert len(backend.entries) == len(created)
    return wall


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,20000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = [
        f"mxpilot CSV import benchmark — in-memory keyring, WAL + synchronous=FULL, "
        f"best of {args.repeat} runs per size",
    ]
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm-up.csv"  # imports, caches and the first file are not measured
        warm.write_text(migration_csv(min(sizes)), encoding="utf-8")
        (Path(tmp) / "warm-up").mkdir()
        import_once(warm, Path(tmp) / "warm-up")
        for kind in ("realistic", "shared"):
            per_row: dict[int, float] = {}
            for size in sizes:
                path = Path(tmp) / f"{kind}-{size}.csv"
                path.write_text(migration_csv(size, kind), encoding="utf-8")
                walls = []
                for run in range(args.repeat):
                    directory = Path(tmp) / f"{kind}-{size}-{run}"
                    directory.mkdir()
                    walls.append(import_once(path, directory))
                wall = min(walls)  # the least disturbed run (other work shares this machine)
                per_row[size] = wall / size
                lines.append(
                    f"  {kind:9} {size:>6} rows: {wall:8.2f} s  {size / wall:8.0f} rows/s  "
                    f"{wall / size * 1e6:7.1f} µs/row"
                )
                print(lines[-1], flush=True)
            largest, smallest = max(sizes), min(sizes)
            ratio = per_row[largest] / per_row[smallest]
            verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
            verdicts.append(
                f"{kind}: per-row time {largest} / {smallest} rows = {ratio:.2f}  "
                f"(target <= {TARGET_RATIO}: {verdict})"
            )
    lines.extend(verdicts)
    print("\n".join([lines[0], *verdicts]))
    out = ROOT / "bench" / "results" / "csv_import.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
