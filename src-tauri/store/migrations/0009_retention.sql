-- Retention per data class and the purge (issue 8, users-and-peers §3.2 R3, R8).
--
-- The end of a family's enrolment ("fin d'inscription"): the day it ended (local date), when and
-- by whom it was recorded. The retention limits count from it: the pivot identity is cleared a
-- few days after, the whole family file some months after. `identity_cleared_at` says when the
-- purge cleared the pivot identity (the family is then no longer refreshable).
ALTER TABLE families ADD COLUMN enrolment_ended_on TEXT;
ALTER TABLE families ADD COLUMN enrolment_recorded_at TEXT;
ALTER TABLE families ADD COLUMN enrolment_recorded_by TEXT;
ALTER TABLE families ADD COLUMN identity_cleared_at TEXT;

-- When the purge eliminated a closed dossier's Hubee files (PDF/JSON): the dossier row stays,
-- so that the family file and the inbox still show it was received and decided.
ALTER TABLE dossiers ADD COLUMN files_eliminated_at TEXT;

-- Each real purge, kept for the "bordereau d'élimination" the archives départementales visa:
-- when, who, the limits applied (the JSON of `retention::Retention`), the safety backup made
-- just before, the journal rows and the export files removed (installation-wide; their names,
-- one per line, which hold only a date).
CREATE TABLE purges (
    id             INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    agent          TEXT NOT NULL,
    limits         TEXT NOT NULL,
    backup_name    TEXT NOT NULL,
    journal_rows   INTEGER NOT NULL CHECK (journal_rows >= 0),
    journal_before TEXT NOT NULL,
    export_files   TEXT NOT NULL
) STRICT;

-- What one purge removed in one commune, per data class, and the range of dates of what was
-- removed (local days, `AAAA-MM-JJ`). The commune's SIRET and name are copied: the bordereau
-- outlives a deleted commune.
CREATE TABLE purge_communes (
    purge_id      INTEGER NOT NULL REFERENCES purges (id),
    commune_id    INTEGER NOT NULL,
    commune_siret TEXT NOT NULL,
    commune_name  TEXT NOT NULL,
    families      INTEGER NOT NULL,
    identities    INTEGER NOT NULL,
    qf_entries    INTEGER NOT NULL,
    refresh_runs  INTEGER NOT NULL,
    dossiers      INTEGER NOT NULL,
    dossier_files INTEGER NOT NULL,
    removed_from  TEXT,
    removed_to    TEXT,
    PRIMARY KEY (purge_id, commune_id)
) STRICT;
