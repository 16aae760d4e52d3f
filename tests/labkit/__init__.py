"""The test lab: real servers on loopback (SMTP, IMAP, DNS, hostile peers)."""
