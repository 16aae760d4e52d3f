"""Unit tests: no server, no terminal (pure functions, SQLite files, subprocess imports)."""
