"""probes.dns."""
