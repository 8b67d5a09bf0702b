-- Communes served by this installation. A secretary often serves two to four communes.
CREATE TABLE communes (
    id          INTEGER PRIMARY KEY,
    siret       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    cog         TEXT NOT NULL,
    environment TEXT NOT NULL CHECK (environment IN ('production', 'bac_a_sable', 'simulateur')),
    created_at  TEXT NOT NULL
) STRICT;

-- Named agents: the law requires tracing who looked at a family's data, so there is no shared login.
-- `name_key` is the name folded for uniqueness ("Émilie" and "emilie " are the same person).
CREATE TABLE agents (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('agent', 'administrateur')),
    pin_hash        TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    blocked_until   TEXT,
    created_at      TEXT NOT NULL
) STRICT;

-- How the data key of the secrets vault is obtained. One row at most.
-- `check_*` is a known plaintext sealed with the data key, to tell a wrong passphrase from a
-- damaged secret.
CREATE TABLE vault (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id         TEXT NOT NULL,
    key_source       TEXT NOT NULL CHECK (key_source IN ('keystore', 'passphrase')),
    kdf_salt         BLOB,
    check_nonce      BLOB NOT NULL,
    check_ciphertext BLOB NOT NULL,
    created_at       TEXT NOT NULL
) STRICT;

-- Hubee credentials and API Particulier token, sealed with the vault's data key (never in clear).
CREATE TABLE secrets (
    commune_id    INTEGER NOT NULL REFERENCES communes (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('hubee_client_id', 'hubee_client_secret', 'particulier_token')),
    nonce         BLOB NOT NULL,
    ciphertext    BLOB NOT NULL,
    configured_at TEXT NOT NULL,
    PRIMARY KEY (commune_id, kind)
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
