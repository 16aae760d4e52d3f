"""Probe results as text, the same for a live result and a stored one.

Rich renderables, no Textual: the CLI prints them to a console (the same text
goes to a pipe without colour), the TUI puts them in its panes, and a result
read back from the history (:func:`stored_probe_lines`) renders through the
same functions as a live one. Facts are read through the typed accessors of
:class:`~probes.mail.model.Phase`, never by string keys. Everything the server
or the user wrote (banners, replies, certificate fields, claims, host names) goes
through :mod:`render.text`: escaped, cut, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from probes.diagnosis.model import Diagnosis
from probes.mail.facts import AuthFacts, CapabilityFacts
from probes.mail.model import Phase, ProbeResult, Target
from probes.status import Status
from probes.stored import StoredResultError
from render.diagnosis import diagnosis_block, diagnosis_lines
from render.status import status_text
from render.text import LINE_LIMIT, REPLY_LIMIT, one_line


def live_table(targets: Sequence[Target], state: dict[Target, tuple[str, Status | None]]) -> Table:
    """The live view: one row per target with its current phase or verdict."""
    table = Table(title="mxpilot probes", expand=False)
    table.add_column("Target")
    table.add_column("Phase")
    table.add_column("Status")
    for target in targets:
        phase, status = state.get(target, ("waiting", None))
        table.add_row(
            one_line(target.label),
            one_line(phase),
            status_text(status) if status else Text("…"),
        )
    return table


def _code_text(phase: Phase) -> Text:
    code = f"  [{phase.code} {phase.enhanced or ''}]".rstrip()
    return one_line(code, LINE_LIMIT, "cyan")


def _aligned_phase_line(phase: Phase) -> Text:
    """The CLI's phase row: status, name in a column, time, summary, reply code."""
    line = Text("  ")
    line.append_text(status_text(phase.status))
    line.append(" ")
    line.append_text(one_line(phase.title))
    line.append(f"{' ' * max(0, 28 - len(phase.title))} {phase.duration * 1000:7.1f} ms  ")
    line.append_text(one_line(phase.summary, REPLY_LIMIT))
    if phase.code is not None:
        line.append_text(_code_text(phase))
    return line


def phase_line(phase: Phase, indent: str = "") -> Text:
    """One phase: status, time, name, summary and reply code (the detail pane's row)."""
    line = Text(indent)
    line.append_text(status_text(phase.status))
    line.append(f" {phase.duration * 1000:7.1f} ms  ")
    line.append_text(one_line(phase.title, LINE_LIMIT, "bold"))
    if phase.summary:
        line.append("  ")
        line.append_text(one_line(phase.summary, REPLY_LIMIT))
    if phase.code is not None:
        line.append_text(_code_text(phase))
    return line


def certificate_lines(phase: Phase) -> list[Text]:
    """The certificate and TLS facts of a TLS phase (empty when it saw no certificate)."""
    tls = phase.tls
    cert = tls.certificate if tls is not None else None
    if tls is None or cert is None:
        return []
    valid = f"{(cert.not_before or '?')[:10]} → {(cert.not_after or '?')[:10]}"
    if cert.days_to_expiry is not None:
        valid += f" ({cert.days_to_expiry} days left)"
    verified = "yes" if tls.verified else f"NO — {tls.verify_error or ''}"
    rows = [
        ("subject", cert.subject_cn or cert.subject or "?"),
        ("names", ", ".join(cert.names)),
        ("issuer", cert.issuer_org or cert.issuer or "?"),
        ("valid", valid),
        ("verified", verified),
        ("tls", f"{tls.version or '?'} {tls.cipher or ''}".strip()),
    ]
    if cert.error:
        rows.append(("error", cert.error))
    if cert.self_signed:
        rows.append(("note", "self-signed"))
    if cert.interception_product:
        rows.append(("intercepted by", cert.interception_product))
    lines = [_titled("Certificate", phase)]
    lines += [_row(name, value) for name, value in rows]
    return lines


def _titled(heading: str, phase: Phase) -> Text:
    """``Heading (phase title)`` in bold underline."""
    title = Text(f"{heading} (", style="bold underline")
    title.append_text(one_line(phase.title))
    title.append(")")
    return title


def _row(name: str, value: str) -> Text:
    """``  name      value``: a fact's name in a column, its (untrusted) value."""
    row = Text(f"  {name:<9} ")
    row.append_text(one_line(value, REPLY_LIMIT))
    return row


def capability_lines(phases: Sequence[Phase]) -> list[Text]:
    """What the server offers, from its last capabilities answer."""
    found: list[tuple[Phase, CapabilityFacts]] = [
        (phase, caps) for phase in phases if phase.facts and (caps := phase.capabilities)
    ]
    if not found:
        return []
    phase, caps = found[-1]
    lines = [_titled("Capabilities", phase)]
    lines.append(
        Text("  ").append_text(one_line(" · ".join(caps.keywords) or "(none)", REPLY_LIMIT))
    )
    auth = caps.auth_mechanisms
    offered = ", ".join(auth) if auth else "no AUTH mechanism offered"
    lines.append(Text("  login: ").append_text(one_line(offered, REPLY_LIMIT)))
    if caps.login_disabled:
        lines.append(Text("  LOGINDISABLED on this connection", style="yellow"))
    return lines


def _token_auth(phase: Phase) -> AuthFacts | None:
    auth = phase.auth
    return auth if auth is not None and auth.token is not None else None


def token_lines(phases: Sequence[Phase]) -> list[Text]:
    """What an XOAUTH2 login's access token says of itself (claims, never the token)."""
    found = [auth for phase in phases if (auth := _token_auth(phase))]
    if not found:
        return []
    auth = found[-1]
    token = auth.token
    lines = [Text("OAuth token (its own claims)", style="bold underline")]
    lines += [_row(name, value) for name, value in (token.rows() if token else [])]
    for problem in auth.token_problems:
        lines.append(
            Text("  ! ", style="yellow").append_text(one_line(problem.message, REPLY_LIMIT))
        )
    return lines


def result_block(result: ProbeResult, verbose: bool = False) -> RenderableType:
    """One probe: heading, phases, transcript and token claims when verbose, diagnoses."""
    heading = Text()
    heading.append_text(status_text(result.status))
    heading.append(" ")
    heading.append_text(one_line(result.target.label, LINE_LIMIT, "bold"))
    if result.security_used and result.security_used is not result.target.security:
        heading.append(f" (speaks {result.security_used.value})")
    if not result.verified:
        heading.append("  UNVERIFIED", style="bold red")
    heading.append(f"  {result.duration * 1000:.0f} ms", style="dim")
    parts: list[RenderableType] = [heading]
    for phase in result.phases:
        parts.append(_aligned_phase_line(phase))
        if verbose and phase.transcript:
            parts.extend(
                Text("      ", style="dim").append_text(one_line(line, REPLY_LIMIT))
                for line in phase.transcript
            )
        auth = _token_auth(phase)
        if verbose and auth is not None and auth.token is not None:  # claims, never the token
            claims = ", ".join(f"{name} {value}" for name, value in auth.token.rows())
            parts.append(
                Text("      token: ", style="dim").append_text(one_line(claims, REPLY_LIMIT))
            )
    for diagnosis in result.diagnoses:
        parts.append(diagnosis_block(diagnosis, "  "))
    return Group(*parts)


def results_block(
    results: Iterable[ProbeResult], conclusions: Sequence[Diagnosis] = (), verbose: bool = False
) -> RenderableType:
    """Every probe, then the conclusions drawn across them."""
    parts: list[RenderableType] = []
    for result in results:
        parts.append(result_block(result, verbose))
        parts.append(Text(""))
    if conclusions:
        parts.append(Text("Conclusions across ports", style="bold underline"))
        parts.extend(diagnosis_block(c, "") for c in conclusions)
    return Group(*parts)


def evidence_lines(result: ProbeResult) -> list[Text]:
    """A probe as evidence: target and login, how it spoke, phases, diagnosis with fixes."""
    target = result.target
    where = (
        f"{target.protocol.value} {target.host}:{target.port} ({target.security.value}), "
        f"{target.username or 'no login'}"
    )
    lines = [Text.assemble(("Target: ", "bold"), one_line(where))]
    used = result.security_used
    if used is not None and used is not target.security:
        lines.append(Text.assemble("  ", (f"the server speaks {used.value}", "yellow")))
    if not result.verified:
        lines.append(Text.assemble("  ", ("certificate NOT verified", "bold red")))
    lines.append(Text("Phases", style="bold"))
    lines.extend(phase_line(phase, "  ") for phase in result.phases)
    if result.diagnoses:
        lines.append(Text("Diagnosis", style="bold"))
    for diagnosis in result.diagnoses:
        lines.extend(diagnosis_lines(diagnosis, "  "))
    return lines


def stored_probe_lines(data: object) -> list[Text]:
    """A probe result as stored in the history, rendered like a live one.

    The JSON is read back with :meth:`ProbeResult.from_dict`; a row that
    cannot be read shows why instead of failing the screen.
    """
    try:
        result = ProbeResult.from_dict(data)
    except StoredResultError as exc:
        why = Text("This stored probe result cannot be read: ", style="bold red")
        return [why.append_text(one_line(str(exc)))]
    return evidence_lines(result)
