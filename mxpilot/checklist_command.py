"""``mxpilot checklist``: create, walk, tick, verify and report a migration checklist."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxpilot.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_connection_options,
    connection_settings,
    open_workspace,
    print_json,
    say,
    say_block,
    workspace_option,
)

if TYPE_CHECKING:
    from workspace.checklist.model import Checklist, ChecklistItem
    from workspace.session import Workspace

STATES = ("done", "open", "skipped", "blocked")
MARKS = {
    "verified": ("✔ verified", "green"),
    "done": ("✓ done", "green"),
    "skipped": ("– skipped", "dim"),
    "blocked": ("⛔ blocked", "red"),
    "regressed": ("⚠ regressed", "bold red"),
    "open": ("☐ open", ""),
}
"""Per item status: the mark shown and its Rich style."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``checklist`` and its subcommands."""
    checklist = commands.add_parser(
        "checklist",
        help="the migration checklist: tick items by hand or by passing checks",
        description="Walk the Gmail to Microsoft 365 checklist, with evidence.",
    )
    sub = checklist.add_subparsers(dest="action", metavar="ACTION", required=True)
    ws = workspace_option()
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--checklist", help="checklist name (default: the newest)")

    new = sub.add_parser("new", parents=[ws], help="start a checklist from a template")
    new.add_argument("--domain", required=True, help="the domain being migrated")
    new.add_argument("--template", default="gmail-to-m365", help="template id (see templates)")
    new.add_argument("--lang", choices=["en", "es"], default=None, help="language of the items")
    new.add_argument("--name", help="checklist name (default: the domain)")
    new.add_argument(
        "--tenant", default="", help="Microsoft 365 tenant, e.g. contoso.onmicrosoft.com"
    )

    sub.add_parser("list", parents=[ws], help="the workspace's checklists")
    sub.add_parser("templates", parents=[ws], help="the templates shipped with mxpilot")

    show = sub.add_parser("show", parents=[ws, which], help="progress, or one item in full")
    show.add_argument("item", nargs="?", help="an item id: its help, commands, evidence, log")
    show.add_argument("--json", action="store_true", help="machine-readable output")

    check = sub.add_parser("check", parents=[ws, which], help="tick items by hand (or reopen)")
    check.add_argument("items", nargs="+", metavar="ITEM")
    check.add_argument("--state", choices=STATES, default="done", help="default done")
    check.add_argument("--note", help="also set the note")
    check.add_argument("--by", help="who did it (default: your login)")

    note = sub.add_parser("note", parents=[ws, which], help="set an item's note")
    note.add_argument("item")
    note.add_argument("text", help="the note ('' clears it)")
    note.add_argument("--by", help="who writes it (default: your login)")

    verify = sub.add_parser(
        "verify",
        parents=[ws, which],
        help="run the checks behind items (probes with keyring passwords, DNS audits)",
    )
    verify.add_argument("items", nargs="*", metavar="ITEM", help="default: every item with a check")
    add_connection_options(verify)
    verify.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)
    verify.add_argument("--json", action="store_true", help="machine-readable output")

    report = sub.add_parser("report", parents=[ws, which], help="Markdown or HTML report")
    report.add_argument("--format", choices=["markdown", "html"], default="markdown")
    report.add_argument("--output", "-o", type=Path, help="write to this file (default stdout)")


def run_checklist_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot checklist ...`` and return the exit code."""
    if args.action == "templates":
        return _templates()
    with open_workspace(args) as ws:
        handler = {
            "new": _new,
            "list": _list,
            "show": _show,
            "check": _check,
            "note": _note,
            "verify": _verify,
            "report": _report,
        }[args.action]
        return handler(ws, args)


def _templates() -> int:
    from workspace.checklist.template import available_templates, load_template

    for template_id in available_templates():
        en, es = load_template(template_id, "en"), load_template(template_id, "es")
        say(f"{template_id}: {en.title} / {es.title} ({len(en.items)} items)")
    return EXIT_OK


def _new(ws: Workspace, args: argparse.Namespace) -> int:
    lang = args.lang or "en"
    created = ws.checklists.create(
        args.domain, template=args.template, lang=lang, name=args.name, tenant=args.tenant
    )
    say(f"checklist {created.name} created: {created.title}, {len(created.items)} items ({lang})")
    return EXIT_OK


def _list(ws: Workspace, args: argparse.Namespace) -> int:
    names = ws.checklists.names()
    if not names:
        say("No checklist yet: 'mxpilot checklist new --domain example.com'.")
    for name in names:
        c = ws.checklists.get(name)
        say(f"{c.name}: {c.title} for {c.domain} — {c.finished}/{len(c.items)} done")
    return EXIT_OK


def item_view(item: ChecklistItem) -> dict[str, Any]:
    """A JSON-ready view of an item."""

    def check_view(check: Any) -> dict[str, Any] | None:
        if check is None:
            return None
        return {
            "at": check.at,
            "status": check.status,
            "summary": check.summary,
            "runs": list(check.run_ids),
        }

    return {
        "id": item.item_id,
        "phase": item.phase_id,
        "title": item.title,
        "state": item.state.value,
        "status": item.status_label,
        "verified": item.verified,
        "regressed": item.regressed,
        "changed_at": item.changed_at,
        "changed_by": item.changed_by,
        "note": item.note,
        "check": item.check.to_dict() if item.check else None,
        "evidence": check_view(item.evidence),
        "last_check": check_view(item.last_check),
    }


def _show(ws: Workspace, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from render.text import one_line

    checklist = ws.checklists.get(args.checklist)
    if args.item:
        return _show_item(ws, checklist, args)
    if args.json:
        payload = {
            "name": checklist.name,
            "title": checklist.title,
            "domain": checklist.domain,
            "lang": checklist.lang,
            "done": checklist.finished,
            "total": len(checklist.items),
            "items": [item_view(i) for i in checklist.items],
        }
        print_json(payload)
        return EXIT_OK
    console = Console()
    console.print(
        Text.assemble(
            one_line(checklist.title, style="bold"),
            " — ",
            one_line(checklist.domain),
            f" ({checklist.finished}/{len(checklist.items)} done)",
        )
    )
    from rich.table import Table

    for phase in checklist.phases():
        bar_done = round(20 * phase.finished / phase.total) if phase.total else 20
        console.print(
            Text.assemble(
                "\n",
                one_line(phase.title, style="bold"),
                f"  {'█' * bar_done}{'░' * (20 - bar_done)} {phase.finished}/{phase.total}",
            )
        )
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=True)
        table.add_column("status", no_wrap=True, width=12)
        table.add_column("id", no_wrap=True, style="dim")
        table.add_column("item", overflow="fold", ratio=1)
        for item in phase.items:
            text = one_line(item.title)
            if item.check:
                text.append(" (auto)", style="dim")
            if item.changed_at:
                text.append("\n")
                text.append_text(
                    one_line(f"{item.changed_at} {item.changed_by or ''}", style="dim")
                )
            if item.note:
                text.append("\n")
                text.append_text(one_line(item.note, style="italic"))
            table.add_row(Text(*MARKS[item.status_label]), one_line(item.item_id), text)
        console.print(table)
    return EXIT_OK


def _show_item(ws: Workspace, checklist: Checklist, args: argparse.Namespace) -> int:
    item = checklist.item(args.item)
    if args.json:
        view = item_view(item)
        view["events"] = [
            {"at": e.at, "by": e.actor, "action": e.action, "detail": e.detail}
            for e in ws.checklists.events(checklist, item.item_id)
        ]
        print_json(view)
        return EXIT_OK
    from workspace.checklist.template import fill_placeholders
    from workspace.usecases.checklist_values import checklist_values

    values = checklist_values(ws, checklist)
    say(f"{item.title}  [{item.item_id}]  {item.status_label}")
    say(f"phase: {item.phase_title}")
    help_text = fill_placeholders(item.help, values)
    say()
    say_block(help_text)
    say()
    if item.check:
        say(f"automatic check: {item.check.label(checklist.lang)}")
    for rendered in item.filled_commands(values, checklist.lang):
        say()
        if rendered.note:
            say(f"  # {rendered.note}")
        prompt = "  ! " if rendered.refused else f"  {rendered.shell}> "
        say(prompt + rendered.command)
    if item.note:
        say()
        say(f"note: {item.note}")
    for label, check in (("evidence", item.evidence), ("last check", item.last_check)):
        if check is not None:
            runs = ", ".join(f"#{r}" for r in check.run_ids)
            say(f"{label}: {check.at} {check.status} — {check.summary} (runs {runs})")
    if item.evidence is not None and item.evidence.run_ids and not item.regressed:
        first = ws.history.get(item.evidence.run_ids[0])
        since = ws.history.passing_since(first.subject) if first else None
        if since is not None:
            say(f"working since {since.started_at} (run #{since.id})")
    events = ws.checklists.events(checklist, item.item_id)
    if events:
        say()
        say("log:")
        for event in events:
            say(f"  {event.at} {event.actor}: {event.action} {event.detail}".rstrip())
    return EXIT_OK


def _check(ws: Workspace, args: argparse.Namespace) -> int:
    from workspace.checklist.model import ItemState

    checklist = ws.checklists.get(args.checklist)
    for item_id in args.items:
        checklist.item(item_id)  # every id valid before anything changes
    for item_id in args.items:
        item = ws.checklists.set_state(
            checklist, item_id, ItemState(args.state), actor=args.by, note=args.note
        )
        say(f"{item.item_id}: {item.status_label}")
    return EXIT_OK


def _note(ws: Workspace, args: argparse.Namespace) -> int:
    checklist = ws.checklists.get(args.checklist)
    item = ws.checklists.set_note(checklist, args.item, args.text, actor=args.by)
    say(f"{item.item_id}: note {'saved' if item.note else 'cleared'}")
    return EXIT_OK


def _verify(ws: Workspace, args: argparse.Namespace) -> int:
    from probes.status import Status
    from workspace.usecases.verify_checklist import items_to_check, verify_checklist

    settings = connection_settings(args)
    ws.use_connection(settings)
    checklist = ws.checklists.get(args.checklist)
    items = items_to_check(checklist, args.items)
    if not items:
        say("no item of this checklist has an automatic check")
        return EXIT_OK
    say(f"verifying {len(items)} item(s)…", file=sys.stderr)
    outcomes = asyncio.run(verify_checklist(ws, settings, checklist, args.items))
    if args.json:
        payload = [
            {"item": o.item_id, "status": o.status.value, "summary": o.summary, "runs": o.run_ids}
            for o in outcomes
        ]
        print_json(payload)
    else:
        after = ws.checklists.get(checklist.name)
        for outcome in outcomes:
            item = after.item(outcome.item_id)
            say(
                f"{outcome.status.value.upper():7} {item.item_id}: {item.status_label} — "
                f"{outcome.summary}"
            )
    return EXIT_FAILED if any(o.status is Status.FAIL for o in outcomes) else EXIT_OK


def _report(ws: Workspace, args: argparse.Namespace) -> int:
    from render.checklist_report import ChecklistReport
    from workspace.usecases.checklist_values import checklist_values

    checklist = ws.checklists.get(args.checklist)
    report = ChecklistReport(checklist, ws.history, checklist_values(ws, checklist))
    text = report.html() if args.format == "html" else report.markdown()
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        from workspace.atomic_file import replace_file

        replace_file(args.output, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    say(f"report written to {args.output}")
    return EXIT_OK
