"""Lab tests: the probes, the CLI and the lab itself against real servers on loopback."""
