"""A probe result's diagnoses: the catalogue's fix templates filled from the target.

The values come from the target (host, port, login; never a secret) and from
what the probe found (the security mode a port really speaks).
"""

from __future__ import annotations

from probes.mail.model import PhaseName, ProbeResult, Target


def diagnosis_context(target: Target, result: ProbeResult | None = None) -> dict[str, str]:
    """Values for the catalogue's fix templates, taken from the target (no secret)."""
    context = {
        "host": target.host,
        "port": str(target.port),
        "protocol": target.protocol.value,
        "security": target.security.value,
    }
    if target.credentials is not None:
        user = target.credentials.username
        context["user"] = user
        context["mailbox"] = user
        if "@" in user:
            context["domain"] = user.rpartition("@")[2]
    if result is not None:
        detect = result.phase(PhaseName.DETECT)
        detected = detect.detection.detected if detect and detect.detection else None
        if detected:
            context["suggested_security"] = detected
            context["suggested_port"] = str(target.port)
    return context


def attach_diagnoses(result: ProbeResult, lang: str = "en") -> None:
    """Diagnose ``result`` with the catalogue; security-mode findings first."""
    from probes.diagnosis.catalogue import Catalogue

    context = diagnosis_context(result.target, result)
    found = Catalogue.load().diagnose(result, context, lang=lang)
    found.sort(key=lambda d: not d.id.startswith("mode."))
    result.diagnoses = found
