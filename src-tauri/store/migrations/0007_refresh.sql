-- The scheduled refresh of the families' QF (issue 7).
--
-- Each commune has at most one schedule: none, monthly from a day (after the CAF's monthly
-- update, e.g. the 10th), or yearly in a month from a day (February for a délibération based
-- on January's resources). Day 1 to 28 so that every month has it.
CREATE TABLE refresh_schedules (
    commune_id  INTEGER PRIMARY KEY REFERENCES communes (id),
    kind        TEXT NOT NULL CHECK (kind IN ('aucune', 'mensuelle', 'annuelle')),
    month       INTEGER CHECK (month BETWEEN 1 AND 12),
    day         INTEGER NOT NULL CHECK (day BETWEEN 1 AND 28),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    CHECK ((kind = 'annuelle') = (month IS NOT NULL))
) STRICT;

-- One run of the refresh: who started it (an agent's "Actualiser maintenant", or the schedule
-- as "système"), the motif journaled with each call, the month asked (`explicit_period` 0: the
-- current month, sent without `annee`/`mois`), and where it is. `en_cours` is resumed after a
-- crash; `arretee` stopped on an error (token refused, families left to retry) and is resumed
-- once the cause is fixed; `apercu` has every answer and waits for an agent to apply it;
-- `appliquee` wrote its changed QFs into the history; `abandonnee` was replaced by a new run
-- before being applied. One unfinished run per commune at a time.
CREATE TABLE refresh_runs (
    id              INTEGER PRIMARY KEY,
    commune_id      INTEGER NOT NULL REFERENCES communes (id),
    started_at      TEXT NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('programmee', 'manuelle')),
    agent           TEXT NOT NULL,
    motif           TEXT NOT NULL,
    annee           INTEGER NOT NULL,
    mois            INTEGER NOT NULL CHECK (mois BETWEEN 1 AND 12),
    explicit_period INTEGER NOT NULL CHECK (explicit_period IN (0, 1)),
    state           TEXT NOT NULL
                    CHECK (state IN ('en_cours', 'arretee', 'apercu', 'appliquee', 'abandonnee')),
    stop_reason     TEXT,
    updated_at      TEXT NOT NULL,
    applied_at      TEXT,
    applied_by      TEXT
) STRICT;

CREATE INDEX refresh_runs_commune ON refresh_runs (commune_id, started_at);
CREATE UNIQUE INDEX refresh_runs_unfinished ON refresh_runs (commune_id)
    WHERE state IN ('en_cours', 'arretee', 'apercu');

-- A family in a run: one row per family and run (the primary key is "never queried twice in
-- one run"). `en_attente` not asked yet, `fait` answered (the QF in `valeur`, NULL for
-- "ressources non connues"), `a_revoir` for an agent (no dossier any more at the CAF/MSA, an
-- identity refused; never an automatic rejection), `a_reessayer` after the service failed a
-- few times, `refus_famille` the family opted out and is never asked. `changed` compares the
-- answer with the family's last QF when it arrived.
CREATE TABLE refresh_items (
    run_id       INTEGER NOT NULL REFERENCES refresh_runs (id) ON DELETE CASCADE,
    family_id    INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    state        TEXT NOT NULL
                 CHECK (state IN ('en_attente', 'fait', 'a_revoir', 'a_reessayer', 'refus_famille')),
    valeur       INTEGER CHECK (valeur > 0),
    annee        INTEGER,
    mois         INTEGER CHECK (mois BETWEEN 1 AND 12),
    fournisseur  TEXT CHECK (fournisseur IN ('CNAF', 'MSA')),
    previous     INTEGER,
    changed      INTEGER NOT NULL DEFAULT 0 CHECK (changed IN (0, 1)),
    http_status  INTEGER,
    api_code     TEXT,
    message      TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT,
    PRIMARY KEY (run_id, family_id),
    CHECK ((state = 'fait') = (fournisseur IS NOT NULL))
) STRICT;

CREATE INDEX refresh_items_family ON refresh_items (family_id);

-- The refresh's answers need a source of their own in the QF history: SQLite cannot change a
-- CHECK, so the table is rebuilt (new table, copy, drop, rename, indexes).
CREATE TABLE qf_history_new (
    id            INTEGER PRIMARY KEY,
    family_id     INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    valeur        INTEGER CHECK (valeur > 0),
    annee         INTEGER NOT NULL,
    mois          INTEGER NOT NULL CHECK (mois BETWEEN 1 AND 12),
    fournisseur   TEXT NOT NULL CHECK (fournisseur IN ('CNAF', 'MSA')),
    source        TEXT NOT NULL
                  CHECK (source IN ('dossier_hubee', 'guichet', 'attestation_papier', 'actualisation')),
    dossier_id    INTEGER REFERENCES dossiers (id),
    document_type TEXT,
    recorded_at   TEXT NOT NULL,
    agent         TEXT NOT NULL,
    CHECK ((source = 'dossier_hubee') = (dossier_id IS NOT NULL)),
    CHECK ((source = 'attestation_papier') = (document_type IS NOT NULL))
) STRICT;

INSERT INTO qf_history_new (id, family_id, valeur, annee, mois, fournisseur, source, dossier_id,
                            document_type, recorded_at, agent)
    SELECT id, family_id, valeur, annee, mois, fournisseur, source, dossier_id, document_type,
           recorded_at, agent
    FROM qf_history;

DROP TABLE qf_history;
ALTER TABLE qf_history_new RENAME TO qf_history;

CREATE INDEX qf_history_family ON qf_history (family_id, annee, mois);
CREATE UNIQUE INDEX qf_history_dossier ON qf_history (dossier_id) WHERE dossier_id IS NOT NULL;
