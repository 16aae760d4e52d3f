"""tui: the Textual app (imports probes and workspace; never the reverse)."""
