"""workspace.auth."""
