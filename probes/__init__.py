"""probes: the headless probe engine; never imports textual."""
