-- FormulaireQF dossiers pulled from Hubee, one row per Hubee case (`case_id` is the idempotency
-- key: a notification seen twice, or a pass interrupted before its DELETE, never makes a second
-- row). `statut` is what the agent sees; `reason` says in French why a dossier is "incomplet" or
-- "à vérifier". `acknowledged_at` is when Hubee was told `SI_RECEIVED`, `intg_error_at` when it
-- was told `SI_INTG_ERROR` after too many attempts, `closed_at` when formulaire-qf closed the case.
-- `search_name` holds the folded names (`text::fold`) for accent-insensitive search;
-- `identity_key` (folded birth name, first names and birth date of the pivot identity) groups
-- the submissions of one family. `decided_at`/`decision_message` record an agent's "traité" or
-- "refusé" once Hubee accepted it.
CREATE TABLE dossiers (
    id                 INTEGER PRIMARY KEY,
    commune_id         INTEGER NOT NULL REFERENCES communes (id),
    case_id            TEXT NOT NULL UNIQUE,
    case_external_id   TEXT,
    folder_external_id TEXT,
    reference          TEXT,
    external_id        TEXT,
    statut             TEXT NOT NULL CHECK (statut IN
                           ('nouveau', 'recu', 'traite', 'refuse', 'incomplet', 'a_verifier', 'cloture')),
    reason             TEXT,
    attempts           INTEGER NOT NULL DEFAULT 1,
    nom_naissance      TEXT,
    prenoms            TEXT,
    date_naissance     TEXT,
    search_name        TEXT NOT NULL DEFAULT '',
    identity_key       TEXT,
    qf_fournisseur     TEXT,
    qf_valeur          INTEGER,
    qf_annee           INTEGER,
    qf_mois            INTEGER,
    nb_enfants         INTEGER,
    raw_json           TEXT,
    received_at        TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    acknowledged_at    TEXT,
    decided_at         TEXT,
    decision_message   TEXT,
    intg_error_at      TEXT,
    closed_at          TEXT
) STRICT;

CREATE INDEX dossiers_commune ON dossiers (commune_id, received_at);
CREATE INDEX dossiers_reference ON dossiers (reference);
CREATE INDEX dossiers_identity ON dossiers (commune_id, identity_key);

-- The files of a dossier as downloaded and checked, kept as archived copies.
CREATE TABLE dossier_files (
    id            INTEGER PRIMARY KEY,
    dossier_id    INTEGER NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    attachment_id TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    mime_type     TEXT,
    bytes         BLOB NOT NULL,
    sha256        TEXT NOT NULL,
    UNIQUE (dossier_id, attachment_id)
) STRICT;

-- How the last passes went, per commune, for "Dernier relevé 09:14 — échec : …".
CREATE TABLE sync_health (
    commune_id   INTEGER PRIMARY KEY REFERENCES communes (id) ON DELETE CASCADE,
    last_attempt TEXT,
    last_success TEXT,
    last_error   TEXT
) STRICT;
