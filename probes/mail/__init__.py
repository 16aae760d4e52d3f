"""probes.mail."""
