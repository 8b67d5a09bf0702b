-- Tariff grids (issue 8): per commune, per service, per period of validity.
--
-- The pricing (brackets or taux d'effort) is kept as the JSON of `tariffs::Pricing`: a grid is
-- always read, validated and written whole, never queried bracket by bracket, and its shape
-- (any number of brackets, optional clamps) would otherwise need two more tables for nothing.
-- Money is in euro cents, dates are local days (`AAAA-MM-JJ`). Crèche/EAJE grids are refused
-- by the domain before they reach this table; the kind is kept so that the refusal is explicit.
CREATE TABLE tariff_grids (
    id             INTEGER PRIMARY KEY,
    commune_id     INTEGER NOT NULL REFERENCES communes (id),
    service        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('ordinaire', 'creche_eaje')),
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    unit           TEXT NOT NULL,
    default_cents  INTEGER NOT NULL CHECK (default_cents >= 0),
    pricing        TEXT NOT NULL,
    gaps_confirmed INTEGER NOT NULL CHECK (gaps_confirmed IN (0, 1)),
    saved_at       TEXT NOT NULL,
    saved_by       TEXT NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
) STRICT;

CREATE INDEX tariff_grids_commune ON tariff_grids (commune_id, service, valid_from);
