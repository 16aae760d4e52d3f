"""The DNS screen: audit a domain's records for a migration phase, see what to write, watch it.

Watch mode is a :class:`~tui.widgets.watch.WatchController`: the next audit is
armed when the previous one ends, and the summary line counts down to it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Checkbox, DataTable, Header, Input, Select, Static
from textual.worker import Worker

from probes.dns.audit import DnsAudit
from probes.dns.client import to_ascii
from probes.dns.model import RecordCheck
from probes.dns.profiles import Profile
from probes.status import Status
from render.dns import check_detail, short_title, verdict_text
from render.status import status_text
from render.text import one_line, shown
from render.zone_lines import change_lines
from tui.screens.base import MxScreen
from tui.widgets.dns_propagation import PropagationView
from tui.widgets.footer import Footer
from tui.widgets.watch import WatchController


@dataclass(frozen=True)
class AuditRequest:
    """What to audit: the domain (ASCII and as typed), the profile, which servers to ask."""

    domain: str
    shown: str
    profile: Profile
    authoritative: bool

    @property
    def subject(self) -> tuple[str, Profile]:
        """Audits of one subject are compared to tell a verdict that changed."""
        return (self.domain, self.profile)


class DnsScreen(MxScreen):
    """A domain's records against a profile: verdicts, the records to write, propagation."""

    TITLE = "DNS records"
    CSS_PATH = "dns.tcss"
    AUTO_FOCUS = ""  # on_mount picks: the checks when a domain is known, else the domain field
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "check", "Check", id="dns.check", priority=True),
        Binding("c", "copy", "Copy records", id="dns.copy"),
        Binding("w", "watch", "Watch", id="dns.watch"),
        Binding("p", "propagation", "Propagation", id="dns.propagation"),
    ]
    WATCH_SECONDS = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.audit: DnsAudit | None = None
        self.request: AuditRequest | None = None
        self.tenant: str | None = None
        self.watcher = WatchController(self.WATCH_SECONDS, id="dns-watch")
        self._worker: Worker[DnsAudit | None] | None = None
        self._verdicts: dict[tuple[str, Profile], dict[str, Status]] = {}
        self._note: Text | None = None

    @property
    def watching(self) -> bool:
        """True in watch mode."""
        return self.watcher.active

    @property
    def watch_interval(self) -> float:
        """Seconds between the end of an audit and the next, in watch mode."""
        return self.watcher.interval

    @watch_interval.setter
    def watch_interval(self, seconds: float) -> None:
        self.watcher.interval = seconds

    @property
    def authoritative_port(self) -> int | None:
        """Where the zone's own servers listen: 53 unless the settings say (a lab's port)."""
        port = self.settings.authoritative_port
        return port if isinstance(port, int) else None

    def compose(self) -> ComposeResult:
        """The form, the summary, the checks, the detail or the propagation view."""
        yield Header()
        with Horizontal(id="dns-form"):
            yield Input(placeholder="domain, e.g. contoso.com", compact=True, id="dns-domain")
            yield Select(
                [(p.value, p) for p in Profile],
                value=Profile.COEXISTENCE,
                allow_blank=False,
                compact=True,
                id="dns-profile",
            )
            yield Checkbox("ask the authoritative servers", compact=True, id="dns-authoritative")
        yield Static("", id="dns-summary")
        yield DataTable(cursor_type="row", id="dns-checks")
        with VerticalScroll(id="dns-detail"):
            yield Static("", id="dns-detail-body")
        yield PropagationView(id="dns-propagation")
        yield Footer()
        yield self.watcher

    def on_mount(self) -> None:
        """Columns; the newest checklist's domain and tenant, audited at once."""
        from workspace.checklist.book import ChecklistError

        self.query_one("#dns-checks", DataTable).add_columns("Record", "Verdict", "Found")
        try:
            checklist = self.workspace.checklists.get()
        except ChecklistError:
            self._summary(Text("Type a domain and press enter; ctrl+r checks again."))
            self.query_one("#dns-domain", Input).focus()
            return
        self.tenant = checklist.tenant or None
        self.query_one("#dns-domain", Input).value = checklist.domain
        self.query_one("#dns-checks", DataTable).focus()
        self.action_check()

    # the audit -----------------------------------------------------------------

    def _form_request(self) -> AuditRequest | None:
        """The request the form describes, or None (and a notice) when the domain is not one."""
        typed = self.query_one("#dns-domain", Input).value.strip()
        try:
            domain = to_ascii(typed)
        except ValueError as exc:
            self.notify(shown(exc), title="Domain", severity="error", markup=False)
            return None
        profile = self.query_one("#dns-profile", Select).value
        assert isinstance(profile, Profile)
        authoritative = self.query_one("#dns-authoritative", Checkbox).value
        return AuditRequest(domain, typed.rstrip("."), profile, authoritative)

    def action_check(self) -> None:
        """Audit the domain in the form (again)."""
        request = self._form_request()
        if request is not None:
            self.start_audit(request)

    @on(Input.Submitted, "#dns-domain")
    def _domain_submitted(self, event: Input.Submitted) -> None:
        """Enter in the domain field runs the audit; the checks table takes the focus."""
        event.stop()
        self.query_one("#dns-checks", DataTable).focus()
        self.action_check()

    def start_audit(self, request: AuditRequest) -> None:
        """Run the audit as the one worker of group ``dns`` (a newer one replaces it)."""
        self.request = request
        shown = self.audit is not None and (self.audit.domain, self.audit.profile)
        if shown != request.subject:
            self.query_one("#dns-detail").loading = True  # the checks table keeps the focus
        self._summary(one_line(f"Checking {request.shown} for {request.profile.value}…"))
        self._worker = self.run_job(
            lambda: self._audit(request),
            name=f"DNS audit of {request.shown}",
            group="dns",
            exclusive=True,
        )

    async def _audit(self, request: AuditRequest) -> DnsAudit | None:
        """Ask, store in the history, show; in watch mode, arm the next run."""
        cancelled = False
        try:
            audit = await self._ask(request)
            if audit is not None:
                self._show(request, audit)
            return audit
        except asyncio.CancelledError:
            cancelled = True
            raise
        except Exception:
            self._summary(one_line(f"The audit of {request.shown} could not finish.", style="red"))
            raise
        finally:
            if not cancelled:
                self.query_one("#dns-detail").loading = False
                self.watcher.round_ended()

    async def _ask(self, request: AuditRequest) -> DnsAudit | None:
        """The audit itself, through the session's DNS settings, kept in the history."""
        from workspace.usecases.audit_domain import (
            DomainAuditRequest,
            audit_and_record,
            audit_network,
        )

        wanted = DomainAuditRequest(
            request.domain, request.profile, request.authoritative, tenant=self.tenant
        )
        audited = await audit_and_record(self.workspace, wanted, audit_network(self.settings))
        if audited is None:
            message = f"No authoritative server found for {request.shown} (NS lookup failed)."
            self._summary(one_line(message, style="red"))
            self.notify(shown(message), title="DNS", severity="error", markup=False)
            return None
        return audited.audit

    # showing -------------------------------------------------------------------

    def _show(self, request: AuditRequest, audit: DnsAudit) -> None:
        """Fill the table (keeping the highlighted check), the detail, propagation, summary."""
        self._tell_changes(request, audit)
        keep = self._highlighted()
        self.audit = audit
        table = self.query_one("#dns-checks", DataTable)
        table.clear()
        width = max(16, self.size.width - 48)
        for check in audit.checks:
            found = " | ".join(check.found) or "—"
            if len(found) > width:
                found = found[: width - 1] + "…"
            found = shown(found, width * 2)
            table.add_row(
                one_line(short_title(check)),
                verdict_text(check, short=True),
                one_line(found),
                key=check.id,
            )
        ids = [check.id for check in audit.checks]
        if keep is not None and keep.id in ids:
            table.move_cursor(row=ids.index(keep.id))
        self._show_detail()
        self.query_one(PropagationView).show(audit.propagation)
        self._summary()

    def _tell_changes(self, request: AuditRequest, audit: DnsAudit) -> None:
        """Notify (and ring) when a verdict differs from the last audit of the same subject."""
        now = {check.id: check.status for check in audit.checks}
        before = self._verdicts.get(request.subject)
        self._verdicts[request.subject] = now
        if not before:
            return
        changed = [
            f"{short_title(check)}: {before[check.id].value.upper()} → {check.status.value.upper()}"
            for check in audit.checks
            if check.id in before and before[check.id] is not check.status
        ]
        if changed:
            worse = any(
                check.status.rank > before[check.id].rank
                for check in audit.checks
                if check.id in before
            )
            self.notify(
                "\n".join(shown(line) for line in changed),
                title=shown(f"DNS of {request.shown} changed"),
                severity="warning" if worse else "information",
                timeout=15,
                markup=False,
            )
            self.app.bell()

    def _summary(self, text: Text | None = None) -> None:
        """The line under the form: the verdict of the audit shown, or ``text``."""
        self._note = text
        self._draw_summary()

    def _draw_summary(self) -> None:
        """The summary line again (watch mode's countdown moves it once a second)."""
        line = self._note
        if line is None and self.audit is not None:
            audit = self.audit
            line = one_line(f"{audit.domain} for {audit.profile.value}: ")
            line.append_text(status_text(audit.status))
            count = len(audit.changes)
            line.append(f" · {count} record(s) to write" if count else " · nothing to write")
            line.append_text(one_line(f" · via {audit.resolver}", style="dim"))
        line = line or Text("")
        if self.watching:
            watch = f"watching every {self.watch_interval:g} s, {self.watcher.countdown()} · "
            line = Text(watch, style="bold") + line
        self.query_one("#dns-summary", Static).update(line)

    def _highlighted(self) -> RecordCheck | None:
        """The check under the cursor."""
        if self.audit is None or not self.audit.checks:
            return None
        row = self.query_one("#dns-checks", DataTable).cursor_row
        return self.audit.checks[row] if 0 <= row < len(self.audit.checks) else None

    def _show_detail(self) -> None:
        check = self._highlighted()
        body = self.query_one("#dns-detail-body", Static)
        body.update(check_detail(check) if check is not None else "")

    @on(DataTable.RowHighlighted, "#dns-checks")
    def _check_highlighted(self) -> None:
        """The detail follows the highlighted check."""
        self._show_detail()

    # actions -------------------------------------------------------------------

    def action_copy(self) -> None:
        """Copy the highlighted check's records to write, as zone-file lines."""
        check = self._highlighted()
        if check is None:
            self.notify("No audit yet: press ctrl+r.", title="Copy", severity="warning")
            return
        if not check.changes:
            self.notify(
                shown(f"{short_title(check)}: nothing to add, change or remove."),
                title="Copy",
                markup=False,
            )
            return
        self.app.copy_to_clipboard("\n".join(change_lines(check.changes)) + "\n")
        self.notify(
            shown(f"{len(check.changes)} record(s) for {short_title(check)}, as zone-file lines"),
            title="Copied to the clipboard",
            markup=False,
        )

    def action_watch(self) -> None:
        """Watch mode on or off: audit again every ``watch_interval`` seconds."""
        if self.watching:
            self.watcher.stop()
            self._summary(None if self.audit else Text("Watch mode off."))
            return
        self.watcher.start()
        if self._worker is not None and not self._worker.is_finished:
            self._summary(Text("Checking…"))  # the running audit arms the next one
        elif self.request is not None:
            self.start_audit(self.request)
        else:
            self.action_check()
            if self.request is None:
                self.watcher.stop()
                return
        self.notify(f"Checking again every {self.watch_interval:g} s (w stops).", title="Watch")

    @on(WatchController.Elapsed, "#dns-watch")
    def _watch_round(self) -> None:
        """The next audit of the same request, unless one is running."""
        running = self._worker is not None and not self._worker.is_finished
        if self.watching and self.request is not None and not running:
            self.start_audit(self.request)

    @on(WatchController.Changed, "#dns-watch")
    def _watch_changed(self) -> None:
        """The summary line shows watch mode and its countdown."""
        if self.is_mounted:
            self._draw_summary()

    def action_propagation(self) -> None:
        """Show or hide how each authoritative server answers."""
        self.toggle_class("-propagation")
        shown = self.has_class("-propagation")
        target = "#dns-propagation-table" if shown else "#dns-checks"
        self.query_one(target, DataTable).focus()
