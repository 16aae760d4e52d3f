"""workspace.imports."""
