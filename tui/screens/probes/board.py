"""The state behind the Probes screen: one row per probe, live phases, verdicts, latencies.

Plain data, no widgets: the screen feeds it probe events and redraws the rows
it reports as changed. A row outlives runs, so its verdict and latency history
carry over from one run (or watch round) to the next.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from probes.diagnosis.model import Diagnosis
from probes.mail.model import (
    Phase,
    PhaseFinished,
    PhaseStarted,
    ProbeEvent,
    ProbeFinished,
    ProbeResult,
    Target,
)
from probes.status import Status

LATENCY_POINTS = 20


@dataclass(frozen=True)
class RowSpec:
    """A probe to show: its row key, its title and target, the account it belongs to."""

    key: str
    title: str
    target: Target
    account: str | None = None


@dataclass(frozen=True)
class VerdictChange:
    """A probe whose verdict differs from its previous (finished, not cancelled) run."""

    key: str
    title: str
    before: Status
    after: Status


@dataclass
class ProbeRow:
    """One probe on the board: what runs now and what the previous runs said."""

    key: str
    title: str
    target: Target
    account: str | None = None
    running: bool = False
    phase: str = ""
    started: float = 0.0
    phases: list[Phase] = field(default_factory=list)
    result: ProbeResult | None = None
    verdict: Status | None = None
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_POINTS))
    conclusions: list[Diagnosis] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        """Seconds since this run of the probe started."""
        return time.monotonic() - self.started if self.running else 0.0

    @property
    def commands(self) -> list[tuple[str, str]]:
        """Remediation commands of the last result and conclusions: (what it does, command)."""
        found = list(self.result.diagnoses) if self.result else []
        found += self.conclusions
        return [(fix.text, fix.command) for d in found for fix in d.fixes if fix.command]


@dataclass
class RunPlan:
    """The probes of one run: each distinct target once, with every row it feeds."""

    rows: dict[Target, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[RowSpec]) -> RunPlan:
        """The plan that feeds these rows."""
        plan = cls()
        for spec in specs:
            plan.add(spec.target, spec.key)
        return plan

    def add(self, target: Target, key: str) -> None:
        """Feed the row ``key`` from the probe of ``target``."""
        self.rows.setdefault(target, []).append(key)

    @property
    def targets(self) -> list[Target]:
        """The targets to probe, each once, in the order they were added."""
        return list(self.rows)

    def keys(self, target: Target) -> list[str]:
        """The rows a target's events go to."""
        return self.rows.get(target, [])


class ProbeBoard:
    """Every row of the Probes screen, in display order."""

    def __init__(self) -> None:
        self.rows: dict[str, ProbeRow] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str | None) -> ProbeRow | None:
        """The row of that key, if shown."""
        return self.rows.get(key) if key is not None else None

    def begin(self, specs: Sequence[RowSpec], *, keep_others: bool = False) -> RunPlan:
        """Mark the rows of a new run as queued (creating them); returns the run's plan.

        A manual run replaces the board with its rows (``keep_others=False``);
        a watch round re-runs some rows and leaves the others as they are.
        Rows keep their verdict and latency history across runs.
        """
        kept: dict[str, ProbeRow] = dict(self.rows) if keep_others else {}
        for spec in specs:
            row = self.rows.get(spec.key) or ProbeRow(spec.key, spec.title, spec.target)
            row.title, row.target, row.account = spec.title, spec.target, spec.account
            row.running, row.phase, row.started = True, "queued", time.monotonic()
            row.phases, row.result = [], None
            row.conclusions = []
            kept[spec.key] = row
        self.rows = kept
        return RunPlan.of(specs)

    def apply(self, plan: RunPlan, event: ProbeEvent) -> tuple[list[ProbeRow], list[VerdictChange]]:
        """Apply one probe event; returns the rows it changed and any verdict change."""
        target = event.result.target if isinstance(event, ProbeFinished) else event.target
        rows = [self.rows[k] for k in plan.keys(target) if k in self.rows]
        changes: list[VerdictChange] = []
        for row in rows:
            if isinstance(event, PhaseStarted):
                row.phase = event.name.value + (f" ({event.label})" if event.label else "")
            elif isinstance(event, PhaseFinished):
                row.phases.append(event.phase)
            else:
                change = self._finish(row, event.result)
                if change is not None:
                    changes.append(change)
        return rows, changes

    @staticmethod
    def _finish(row: ProbeRow, result: ProbeResult) -> VerdictChange | None:
        row.running = False
        row.result = result
        row.phases = list(result.phases)
        failure = result.failure
        row.phase = "cancelled" if result.cancelled else (failure.title if failure else "done")
        if result.cancelled:
            return None
        before, row.verdict = row.verdict, result.status
        row.latencies.append(round(result.duration * 1000, 1))
        if before is None or before is result.status:
            return None
        return VerdictChange(row.key, row.title, before, result.status)

    def stop_all(self, reason: str) -> list[ProbeRow]:
        """Mark every row still running as stopped (its job ended without finishing it)."""
        stopped = [row for row in self.rows.values() if row.running]
        for row in stopped:
            row.running = False
            row.phase = reason
        return stopped

    @property
    def running(self) -> list[ProbeRow]:
        """Rows whose probe is in progress."""
        return [row for row in self.rows.values() if row.running]

    @property
    def failing(self) -> list[ProbeRow]:
        """Rows whose last verdict is a failure (what watch mode re-runs)."""
        return [row for row in self.rows.values() if row.verdict is Status.FAIL]
