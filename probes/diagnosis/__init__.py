"""probes.diagnosis."""
