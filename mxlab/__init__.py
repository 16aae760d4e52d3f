"""The mxpilot lab: real mail, IMAP and DNS servers on loopback, for tests and the offline demo.

Nothing here reaches beyond 127.0.0.1; every server binds an ephemeral port and stops cleanly.
"""
