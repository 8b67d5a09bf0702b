-- Each commune's poster settings (issue 6), remembered between prints and shared by the window
-- and the command line: the services the QF is collected for, the mairie's e-mail, whether the
-- commune refreshes families' QFs itself (the poster then prints how to opt out), and its logo
-- (the agent's PNG or JPEG file as chosen, at most 2 MB, checked before it is stored). A
-- separate table so that listing communes never reads a logo; forgotten with the commune.
CREATE TABLE poster_settings (
    commune_id    INTEGER PRIMARY KEY REFERENCES communes (id) ON DELETE CASCADE,
    services      TEXT NOT NULL,
    contact_email TEXT,
    refreshes     INTEGER NOT NULL DEFAULT 0 CHECK (refreshes IN (0, 1)),
    logo          BLOB CHECK (logo IS NULL OR length(logo) <= 2097152),
    logo_kind     TEXT CHECK (logo_kind IN ('png', 'jpeg')),
    updated_at    TEXT NOT NULL,
    CHECK ((logo IS NULL) = (logo_kind IS NULL))
) STRICT;
