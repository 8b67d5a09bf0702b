-- The RGPD documents (issue 8, users-and-peers §3.2 R8-R10) and a purge follow-up.
--
-- Each commune's RGPD settings, what its register entry (art. 30) and its information notice
-- for families need: the mayor (controller), the DPO and how to reach them (e-mail and/or postal
-- address), the délibération setting the tariffs (number and day, `AAAA-MM-JJ`), the services
-- and the recipients (one per line), the mairie's postal address and the e-mail for requests.
-- Empty text means "not given"; a commune that never saved any reads the defaults.
CREATE TABLE rgpd_settings (
    commune_id          INTEGER PRIMARY KEY REFERENCES communes (id) ON DELETE CASCADE,
    mayor_name          TEXT NOT NULL,
    dpo_name            TEXT NOT NULL,
    dpo_email           TEXT NOT NULL,
    dpo_address         TEXT NOT NULL,
    deliberation_number TEXT NOT NULL,
    deliberation_date   TEXT,
    services            TEXT NOT NULL,
    recipients          TEXT NOT NULL,
    postal_address      TEXT NOT NULL,
    requests_email      TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    updated_by          TEXT NOT NULL
) STRICT;

-- Dossiers a purge kept although their family went whole, because another family's QF history
-- still names them as its source (the purge never fails on a reference).
ALTER TABLE purge_communes ADD COLUMN kept_referenced INTEGER NOT NULL DEFAULT 0;
