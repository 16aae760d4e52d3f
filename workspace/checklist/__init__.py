"""workspace.checklist."""
