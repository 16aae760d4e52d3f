"""The workspace's SQLite schema, as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied. A migration
is a list of statements applied in one transaction; never edit a released
one, append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            address TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('source', 'target', 'service')),
            provider TEXT NOT NULL,
            roles TEXT NOT NULL,
            imap_host TEXT, imap_port INTEGER, imap_security TEXT,
            smtp_host TEXT, smtp_port INTEGER, smtp_security TEXT,
            username TEXT NOT NULL DEFAULT '',
            auth TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            extra TEXT NOT NULL DEFAULT '{}',
            revision INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('probe', 'dns')),
            subject TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
            account_name TEXT,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            started_at TEXT NOT NULL,
            duration_ms REAL NOT NULL,
            result TEXT NOT NULL
        )""",
        "CREATE INDEX runs_by_subject ON runs(subject, id)",
        "CREATE INDEX runs_by_account ON runs(account_id, id)",
        """CREATE TABLE checklists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            template TEXT NOT NULL,
            template_version INTEGER NOT NULL,
            lang TEXT NOT NULL,
            title TEXT NOT NULL,
            domain TEXT NOT NULL,
            tenant TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            checklist_id INTEGER NOT NULL REFERENCES checklists(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            at TEXT NOT NULL,
            status TEXT NOT NULL,
            summary TEXT NOT NULL,
            run_ids TEXT NOT NULL
        )""",
        """CREATE TABLE checklist_items (
            checklist_id INTEGER NOT NULL REFERENCES checklists(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            phase_id TEXT NOT NULL,
            phase_title TEXT NOT NULL,
            title TEXT NOT NULL,
            help TEXT NOT NULL,
            commands TEXT NOT NULL,
            check_spec TEXT,
            state TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'done', 'skipped', 'blocked')),
            changed_at TEXT,
            changed_by TEXT,
            note TEXT NOT NULL DEFAULT '',
            verified INTEGER NOT NULL DEFAULT 0,
            regressed INTEGER NOT NULL DEFAULT 0,
            evidence_check_id INTEGER REFERENCES checks(id) ON DELETE SET NULL,
            last_check_id INTEGER REFERENCES checks(id) ON DELETE SET NULL,
            revision INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (checklist_id, item_id)
        )""",
        """CREATE TABLE checklist_events (
            id INTEGER PRIMARY KEY,
            checklist_id INTEGER NOT NULL REFERENCES checklists(id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX events_by_item ON checklist_events(checklist_id, item_id, id)",
    ),
    (
        # OAuth sign-ins: the app registration an account signs in with, and who signed in.
        # The refresh token (and a Google client secret) live in the keyring, never here.
        """CREATE TABLE oauth_signins (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            platform TEXT NOT NULL CHECK (platform IN ('microsoft', 'google')),
            client_id TEXT NOT NULL,
            tenant TEXT NOT NULL DEFAULT 'organizations',
            authority TEXT,
            scopes TEXT NOT NULL DEFAULT '[]',
            granted_scopes TEXT NOT NULL DEFAULT '[]',
            signed_in_as TEXT NOT NULL DEFAULT '',
            signed_in_at TEXT,
            refreshed_at TEXT,
            updated_at TEXT NOT NULL
        )""",
    ),
    (
        # Stored results carry the version of their JSON view, so a later release can read
        # (and upgrade) what an earlier one wrote. Rows written before this migration are
        # version 1: ``ProbeResult.to_dict`` / ``DnsAudit.to_dict`` of release 0.1.0.
        "ALTER TABLE runs ADD COLUMN result_schema INTEGER NOT NULL DEFAULT 1",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
