"""Use cases: every action a front end offers, written once for the CLI and the TUI.

One module per use case (probe accounts, audit a domain, verify a checklist,
start a migration, a checklist's command values). Each is a few typed
functions over an open :class:`workspace.session.Workspace`; the front ends
parse their input, call them, and render what they return. Nothing here
imports textual, the CLI, the TUI or the renderer.
"""
