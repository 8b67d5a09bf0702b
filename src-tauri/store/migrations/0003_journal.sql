-- The access journal (API Particulier CGU, formulaire-QF CGU §2.1.3: agents' accesses traced for
-- at least 36 months). One row per API Particulier call, dossier opened, export, print…; see
-- `src-tauri/journal.rs` for the hash chain. Never a token, never a payload, never identity
-- fields: `reference` is the only link to a family.
--
-- `id` is a gap-free sequence (1, 2, 3…): a missing number is a deleted row. `at` is UTC with
-- milliseconds in one fixed format, so text order is time order. The commune's SIRET and name
-- are copied at the time (no foreign key): the journal outlives a deleted commune.
-- `hash` = SHA-256 of the row's canonical encoding, which includes `prev_hash`, the hash of the
-- row before (or `journal_state.first_prev_hash` for the first row kept).
CREATE TABLE journal (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    agent         TEXT NOT NULL,
    commune_id    INTEGER,
    commune_siret TEXT,
    commune_name  TEXT,
    action        TEXT NOT NULL,
    motif         TEXT,
    reference     TEXT,
    endpoint      TEXT,
    recipient     TEXT,
    http_status   INTEGER,
    api_code      TEXT,
    request_id    TEXT,
    detail        TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
) STRICT;

CREATE INDEX journal_at ON journal (at);
CREATE INDEX journal_agent ON journal (agent, id);

-- Where the chain starts and ends, one row. `first_id`/`first_prev_hash`: the anchor the first
-- remaining row links to (row 1 and 64 zeros until a purge moves it). `head_id`/`head_hash`: the
-- last row appended, so that cutting rows off the end is seen too. `purge_before`: rows older
-- than this may be deleted (by the purge only); `purge_row` is the journal row that recorded the
-- last purge and repeats the anchor, so the anchor cannot be moved without breaking the chain.
CREATE TABLE journal_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    first_id        INTEGER NOT NULL,
    first_prev_hash TEXT NOT NULL,
    head_id         INTEGER NOT NULL,
    head_hash       TEXT NOT NULL,
    purge_before    TEXT,
    purge_row       INTEGER
) STRICT;

INSERT INTO journal_state (id, first_id, first_prev_hash, head_id, head_hash)
VALUES (1, 1, '0000000000000000000000000000000000000000000000000000000000000000',
        0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only by construction: no statement may change a row, and only rows older than the
-- purge limit may be deleted (the purge raises the limit in the same transaction).
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'journal des accès : une ligne ne peut pas être modifiée');
END;

CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
WHEN (SELECT purge_before FROM journal_state WHERE id = 1) IS NULL
  OR OLD.at >= (SELECT purge_before FROM journal_state WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'journal des accès : seule la purge supprime des lignes, et seulement les plus anciennes');
END;

CREATE TRIGGER journal_state_no_delete BEFORE DELETE ON journal_state
BEGIN
    SELECT RAISE(ABORT, 'journal des accès : état de la chaîne obligatoire');
END;

-- The purge limit only moves forward, and the anchor only moves forward.
CREATE TRIGGER journal_state_forward BEFORE UPDATE ON journal_state
WHEN NEW.first_id < OLD.first_id
  OR NEW.head_id < OLD.head_id
  OR (OLD.purge_before IS NOT NULL AND (NEW.purge_before IS NULL OR NEW.purge_before < OLD.purge_before))
BEGIN
    SELECT RAISE(ABORT, 'journal des accès : la chaîne ne peut pas revenir en arrière');
END;
