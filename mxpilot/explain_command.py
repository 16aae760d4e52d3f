"""``mxpilot explain``: a pasted error's cause and exact fix, from the diagnosis catalogue."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mxpilot.common import EXIT_FAILED, EXIT_OK, UsageError, print_json


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``explain`` and its options."""
    explain = commands.add_parser(
        "explain",
        help="explain an error message: cause and exact fix",
        description="Explain an error as you pasted it (log line, JSON blob, traceback). "
        "Without TEXT, reads stdin.",
    )
    explain.add_argument("text", nargs="*", help="the error text (default: stdin)")
    explain.add_argument("--mailbox", help="mailbox to put in the fix commands")
    explain.add_argument("--host", help="server host to put in the fix commands")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument("--lang", choices=["en", "es"], default=None, help="language of advice")


def run_explain_command(args: argparse.Namespace) -> int:
    """Run ``mxpilot explain`` and return its exit code."""
    from probes.diagnosis.explain import explain

    text = " ".join(args.text) if args.text else sys.stdin.read()
    if not text.strip():
        raise UsageError("nothing to explain: give the error text as arguments or on stdin")
    context: dict[str, str] = {}
    if args.mailbox:
        context["mailbox"] = args.mailbox
    if args.host:
        context["host"] = args.host
    found = explain(text, context or None, lang=args.lang)
    if args.json:
        payload: dict[str, Any] = {
            "findings": [d.to_dict() for d in found.findings],
            "fragments": found.fragments,
        }
        print_json(payload)
    else:
        from rich.console import Console

        from render.diagnosis import diagnosis_block

        console = Console()
        if not found.findings:
            console.print("No known failure recognised in this text.")
        for diagnosis in found.findings:
            console.print(diagnosis_block(diagnosis, ""))
            console.print()
    return EXIT_OK if found.findings else EXIT_FAILED
