"""The app's screens: Accounts, Probes, DNS, Checklist, and the modals."""
