-- The family file (issue 7).
--
-- A family (foyer) belongs to one commune. `external_id` is ours, opaque and stable: 16 random
-- bytes in lower-case Crockford base32 (26 characters), put in the personal QR code so that a
-- dossier sent through it reconciles itself. The opt-out of the scheduled refresh records the
-- day the family asked (`opt_out_on`, local date), how (`opt_out_channel`), and who entered it.
CREATE TABLE families (
    id                   INTEGER PRIMARY KEY,
    commune_id           INTEGER NOT NULL REFERENCES communes (id),
    external_id          TEXT NOT NULL UNIQUE,
    created_at           TEXT NOT NULL,
    created_by           TEXT NOT NULL,
    notes                TEXT NOT NULL DEFAULT '',
    opt_out_on           TEXT,
    opt_out_channel      TEXT CHECK (opt_out_channel IN ('courriel', 'courrier', 'guichet', 'telephone')),
    opt_out_recorded_at  TEXT,
    opt_out_recorded_by  TEXT,
    CHECK ((opt_out_on IS NULL) = (opt_out_channel IS NULL))
) STRICT;

CREATE INDEX families_commune ON families (commune_id);

-- The `external_id`s of families merged into another one: a letter already sent with the old
-- code must still lead to the family that absorbed it.
CREATE TABLE family_aliases (
    external_id TEXT PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    merged_at   TEXT NOT NULL,
    merged_by   TEXT NOT NULL
) STRICT;

-- Allocataires and children. Birth date parts may be unknown (a day only with a month, a month
-- only with a year), as API Particulier allows. The birth place is the pivot identity's: the
-- country's COG (`99100` for France), the commune's COG, or its name and département when the
-- COG is unknown. `pivot` marks the one member whose identity the scheduled refresh sends.
-- `name_key` (folded birth name) and `person_key` (folded first first name and birth date) find
-- the families an arriving identity may belong to.
CREATE TABLE family_members (
    id                    INTEGER PRIMARY KEY,
    family_id             INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    role                  TEXT NOT NULL CHECK (role IN ('allocataire', 'enfant')),
    nom_naissance         TEXT NOT NULL,
    nom_usage             TEXT,
    prenoms               TEXT NOT NULL,
    sexe                  TEXT CHECK (sexe IN ('F', 'M')),
    annee_naissance       INTEGER,
    mois_naissance        INTEGER CHECK (mois_naissance BETWEEN 1 AND 12),
    jour_naissance        INTEGER CHECK (jour_naissance BETWEEN 1 AND 31),
    pays_naissance        TEXT,
    commune_naissance     TEXT,
    commune_naissance_nom TEXT,
    departement_naissance TEXT,
    pivot                 INTEGER NOT NULL DEFAULT 0 CHECK (pivot IN (0, 1)),
    name_key              TEXT NOT NULL,
    person_key            TEXT NOT NULL,
    added_at              TEXT NOT NULL
) STRICT;

CREATE INDEX family_members_family ON family_members (family_id);
CREATE INDEX family_members_name ON family_members (name_key);
CREATE INDEX family_members_person ON family_members (person_key);
CREATE UNIQUE INDEX family_members_pivot ON family_members (family_id) WHERE pivot = 1;

-- The QF history. `valeur` NULL is "ressources non connues" (never a QF of 0). `source` says
-- where it came from: a Hubee dossier (`dossier_id`), the counter lookup, or a paper attestation
-- typed by an agent (`document_type`).
CREATE TABLE qf_history (
    id            INTEGER PRIMARY KEY,
    family_id     INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    valeur        INTEGER CHECK (valeur > 0),
    annee         INTEGER NOT NULL,
    mois          INTEGER NOT NULL CHECK (mois BETWEEN 1 AND 12),
    fournisseur   TEXT NOT NULL CHECK (fournisseur IN ('CNAF', 'MSA')),
    source        TEXT NOT NULL CHECK (source IN ('dossier_hubee', 'guichet', 'attestation_papier')),
    dossier_id    INTEGER REFERENCES dossiers (id),
    document_type TEXT,
    recorded_at   TEXT NOT NULL,
    agent         TEXT NOT NULL,
    CHECK ((source = 'dossier_hubee') = (dossier_id IS NOT NULL)),
    CHECK ((source = 'attestation_papier') = (document_type IS NOT NULL))
) STRICT;

CREATE INDEX qf_history_family ON qf_history (family_id, annee, mois);
CREATE UNIQUE INDEX qf_history_dossier ON qf_history (dossier_id) WHERE dossier_id IS NOT NULL;

-- Which family each reconciled dossier belongs to, and how it was decided: `external_id` (the
-- personal QR code), `identite` (a sure match), `agent` (chosen among candidates) or `nouvelle`
-- (a new family). A dossier belongs to one family at most.
CREATE TABLE family_dossiers (
    dossier_id  INTEGER PRIMARY KEY REFERENCES dossiers (id),
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    how         TEXT NOT NULL CHECK (how IN ('external_id', 'identite', 'agent', 'nouvelle')),
    attached_at TEXT NOT NULL,
    attached_by TEXT NOT NULL
) STRICT;

CREATE INDEX family_dossiers_family ON family_dossiers (family_id);

-- Dossiers whose reconciliation was doubtful: the candidate families and their scores, until an
-- agent attaches the dossier or creates a new family.
CREATE TABLE family_candidates (
    dossier_id INTEGER NOT NULL REFERENCES dossiers (id),
    family_id  INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    score      INTEGER NOT NULL,
    PRIMARY KEY (dossier_id, family_id)
) STRICT;

-- Full-text search over every member's names, folded by `text::fold` before they are written
-- (the tokenizer also removes diacritics, for safety). The rowid is the family's id; the Rust
-- code rewrites a family's row whenever its members change. Prefix indexes keep "dur*" fast.
CREATE VIRTUAL TABLE family_search USING fts5 (
    names,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
