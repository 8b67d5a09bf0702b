-- What the token guardian learnt about each commune's API Particulier token, so that the window
-- can warn before it expires without asking the server at every start: when it was checked,
-- when the token expires and where that date was read (`serveur` = /v3/token/introspect,
-- `jeton` = the JWT's own claim, `inconnue`), its scopes (a JSON array) and the DataPass page
-- where the demandeur asks for a prolongation. Forgotten when the token is removed.
CREATE TABLE particulier_tokens (
    commune_id   INTEGER PRIMARY KEY REFERENCES communes (id) ON DELETE CASCADE,
    checked_at   TEXT NOT NULL,
    expires_at   TEXT,
    source       TEXT NOT NULL CHECK (source IN ('serveur', 'jeton', 'inconnue')),
    scopes       TEXT NOT NULL,
    datapass_url TEXT
) STRICT;
