//! The tariff grids in the store (migration `0008_tariffs.sql`), and what the grids say about
//! the family file: a family's tariff per service, and the anonymous distribution of families
//! per bracket for the municipal council.
//!
//! A family's QF here is the latest entry of its history ([`crate::families::history`]'s order:
//! newest month first); a "ressources non connues" entry or no entry at all is an unknown QF and
//! gets the default tariff. Two grids of one service never share a day, so that "the grid valid
//! on a date" always has one answer; the service is compared folded (case and accents).

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use ts_rs::TS;

use super::{check, price_for, Basis, Grid, Priced, Pricing, ServiceKind};
use crate::error::{Code, Error, Result};
use crate::store::{backup, Store};
use crate::text::fold;

const COLUMNS: &str =
    "id, service, kind, valid_from, valid_to, unit, default_cents, pricing, gaps_confirmed";

fn grid_from_row(row: &Row<'_>) -> rusqlite::Result<(Grid, String)> {
    let kind: String = row.get(2)?;
    let day = |index: usize, text: String| {
        text.parse::<Date>().map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                Box::new(error),
            )
        })
    };
    let valid_from = day(3, row.get(3)?)?;
    let valid_to = row
        .get::<_, Option<String>>(4)?
        .map(|t| day(4, t))
        .transpose()?;
    let pricing: String = row.get(7)?;
    let grid = Grid {
        id: Some(row.get(0)?),
        service: row.get(1)?,
        kind: if kind == "creche_eaje" {
            ServiceKind::CrecheEaje
        } else {
            ServiceKind::Ordinaire
        },
        valid_from,
        valid_to,
        unit: row.get(5)?,
        default_cents: row.get(6)?,
        // Replaced below; JSON errors are mapped there.
        pricing: Pricing::Tranches { brackets: vec![] },
        gaps_confirmed: row.get::<_, i64>(8)? == 1,
    };
    Ok((grid, pricing))
}

fn read_grids(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Grid>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement
        .query_map(args, grid_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut grid, pricing)| {
            grid.pricing = serde_json::from_str(&pricing).map_err(|error| {
                Error::new(
                    Code::Internal,
                    format!(
                        "La grille tarifaire « {} » enregistrée est illisible.",
                        grid.service
                    ),
                )
                .with_source(error)
            })?;
            Ok(grid)
        })
        .collect()
}

/// The commune's grids, by service then period.
pub fn list(conn: &Connection, commune_id: i64) -> Result<Vec<Grid>> {
    let mut grids = read_grids(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM tariff_grids WHERE commune_id = ?1 ORDER BY valid_from, id"
        ),
        [commune_id],
    )?;
    grids.sort_by_cached_key(|g| (fold(&g.service), g.valid_from));
    Ok(grids)
}

/// The commune's grids valid on `day`, one per service.
pub fn grids_on(conn: &Connection, commune_id: i64, day: Date) -> Result<Vec<Grid>> {
    Ok(list(conn, commune_id)?
        .into_iter()
        .filter(|g| g.valid_on(day))
        .collect())
}

/// Saves a new grid (`grid.id` `None`) or replaces one of the commune's; returns its id. The
/// grid must pass [`check`], and its period must not share a day with another grid of the same
/// service.
pub fn save(
    tx: &Transaction<'_>,
    commune_id: i64,
    grid: &Grid,
    agent: &str,
    now: Timestamp,
) -> Result<i64> {
    check(grid)?;
    let service = grid.service.trim();
    let key = fold(service);
    for other in list(tx, commune_id)? {
        if other.id == grid.id || fold(&other.service) != key {
            continue;
        }
        let ends_before = grid.valid_to.is_some_and(|to| to < other.valid_from);
        let starts_after = other.valid_to.is_some_and(|to| to < grid.valid_from);
        if !ends_before && !starts_after {
            return Err(Error::new(
                Code::Conflict,
                format!(
                    "Une grille « {} » est déjà valable sur cette période (à partir du {}) : \
                     fermez-la par une date de fin, ou changez les dates de validité.",
                    other.service,
                    other.valid_from.strftime("%d/%m/%Y")
                ),
            ));
        }
    }
    let kind = match grid.kind {
        ServiceKind::Ordinaire => "ordinaire",
        ServiceKind::CrecheEaje => "creche_eaje",
    };
    let pricing = serde_json::to_string(&grid.pricing)
        .map_err(|error| Error::new(Code::Internal, "Grille illisible.").with_source(error))?;
    match grid.id {
        None => {
            tx.execute(
                "INSERT INTO tariff_grids (commune_id, service, kind, valid_from, valid_to, unit,
                 default_cents, pricing, gaps_confirmed, saved_at, saved_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    commune_id,
                    service,
                    kind,
                    grid.valid_from.to_string(),
                    grid.valid_to.map(|d| d.to_string()),
                    grid.unit.trim(),
                    grid.default_cents,
                    pricing,
                    i64::from(grid.gaps_confirmed),
                    now.to_string(),
                    agent,
                ],
            )?;
            Ok(tx.last_insert_rowid())
        }
        Some(id) => {
            let changed = tx.execute(
                "UPDATE tariff_grids SET service = ?2, kind = ?3, valid_from = ?4, valid_to = ?5,
                 unit = ?6, default_cents = ?7, pricing = ?8, gaps_confirmed = ?9,
                 saved_at = ?10, saved_by = ?11 WHERE commune_id = ?1 AND id = ?12",
                params![
                    commune_id,
                    service,
                    kind,
                    grid.valid_from.to_string(),
                    grid.valid_to.map(|d| d.to_string()),
                    grid.unit.trim(),
                    grid.default_cents,
                    pricing,
                    i64::from(grid.gaps_confirmed),
                    now.to_string(),
                    agent,
                    id,
                ],
            )?;
            if changed == 0 {
                return Err(not_found());
            }
            Ok(id)
        }
    }
}

fn not_found() -> Error {
    Error::new(
        Code::NotFound,
        "Cette grille tarifaire n'existe plus (supprimée entre-temps ?).",
    )
}

/// Deletes one of the commune's grids after a safety backup (nothing is deleted without a
/// backup first), for the window and the CLI. The QF history it priced is untouched.
pub fn remove(store: &Store, commune_id: i64, grid_id: i64, now: Timestamp) -> Result<()> {
    let exists = store
        .read(|conn| list(conn, commune_id))?
        .iter()
        .any(|g| g.id == Some(grid_id));
    if !exists {
        return Err(not_found());
    }
    backup::create(store, backup::BackupKind::Safety, now)?;
    store.write(|tx| delete(tx, commune_id, grid_id))
}

/// Deletes one of the commune's grids in the caller's transaction (see [`remove`] for the
/// backup made first).
pub fn delete(tx: &Transaction<'_>, commune_id: i64, grid_id: i64) -> Result<()> {
    let deleted = tx.execute(
        "DELETE FROM tariff_grids WHERE commune_id = ?1 AND id = ?2",
        params![commune_id, grid_id],
    )?;
    if deleted == 0 {
        return Err(not_found());
    }
    Ok(())
}

/// A family's tariff for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "FamilyTariff")]
pub struct FamilyTariff {
    #[ts(type = "number")]
    pub grid_id: i64,
    pub service: String,
    /// The QF priced (`None`: unknown).
    pub qf: Option<u32>,
    pub priced: Priced,
}

/// The latest QF of a family: `None` when it has none or the latest is "ressources non connues".
fn latest_qf(conn: &Connection, family_id: i64) -> Result<Option<u32>> {
    Ok(crate::families::history(conn, family_id)?
        .into_iter()
        .next()
        .and_then(|entry| entry.valeur))
}

/// The family's bracket and price for every service of its commune valid on `day`, from its
/// latest known QF.
pub fn family_tariffs(conn: &Connection, family_id: i64, day: Date) -> Result<Vec<FamilyTariff>> {
    let commune_id: i64 = conn
        .query_row(
            "SELECT commune_id FROM families WHERE id = ?1",
            [family_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::new(Code::NotFound, "Cette famille n'existe plus."))?;
    tariffs_on(conn, commune_id, day, latest_qf(conn, family_id)?)
}

/// The bracket and price of one QF in every grid of the commune valid on `day`: a dossier's
/// QF, or the one the counter just received, before it is in any family file.
pub fn tariffs_on(
    conn: &Connection,
    commune_id: i64,
    day: Date,
    qf: Option<u32>,
) -> Result<Vec<FamilyTariff>> {
    tariffs_for_qf(&grids_on(conn, commune_id, day)?, qf)
}

/// Every grid's tariff for one QF (a family's, or the QF a refresh brings).
pub fn tariffs_for_qf(grids: &[Grid], qf: Option<u32>) -> Result<Vec<FamilyTariff>> {
    grids
        .iter()
        .map(|grid| {
            Ok(FamilyTariff {
                grid_id: grid.id.unwrap_or_default(),
                service: grid.service.clone(),
                qf,
                priced: price_for(grid, qf)?,
            })
        })
        .collect()
}

/// How many families fall in one bracket (or one part of a taux d'effort).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "TariffBracketCount")]
pub struct BracketCount {
    pub basis: Basis,
    pub label: String,
    #[ts(type = "number | null")]
    pub price_cents: Option<i64>,
    pub families: u32,
}

/// The anonymous distribution of a commune's families over one service's grid on a day: counts
/// only, never a name, for the municipal council.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "TariffDistribution")]
pub struct Distribution {
    #[ts(type = "number")]
    pub grid_id: i64,
    pub service: String,
    pub unit: String,
    /// Every bracket in order (zeros included), then "hors tranches" when some fall in a gap;
    /// for a taux d'effort: plancher, proportionnel, plafond.
    pub rows: Vec<BracketCount>,
    /// Families with no QF or "ressources non connues": the default tariff.
    pub unknown_qf: u32,
    pub total: u32,
}

/// Counts the commune's families per bracket of the grid of `service` valid on `day`.
pub fn distribution(
    conn: &Connection,
    commune_id: i64,
    service: &str,
    day: Date,
) -> Result<Distribution> {
    let key = fold(service);
    let grid = grids_on(conn, commune_id, day)?
        .into_iter()
        .find(|g| fold(&g.service) == key)
        .ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!(
                    "Aucune grille « {} » n'est valable le {}.",
                    service.trim(),
                    day.strftime("%d/%m/%Y")
                ),
            )
        })?;
    let mut rows: Vec<BracketCount> = match &grid.pricing {
        Pricing::Tranches { brackets } => brackets
            .iter()
            .enumerate()
            .map(|(index, bracket)| BracketCount {
                basis: Basis::Tranche { index },
                label: super::bracket_label(brackets, index),
                price_cents: Some(bracket.price_cents),
                families: 0,
            })
            .collect(),
        Pricing::TauxEffort(rate) => vec![
            BracketCount {
                basis: Basis::Plancher,
                label: "Tarif plancher".into(),
                price_cents: rate.floor_cents,
                families: 0,
            },
            BracketCount {
                basis: Basis::Proportionnel,
                label: "Taux d'effort".into(),
                price_cents: None,
                families: 0,
            },
            BracketCount {
                basis: Basis::Plafond,
                label: "Tarif plafond".into(),
                price_cents: rate.ceiling_cents,
                families: 0,
            },
        ],
    };
    let mut statement = conn.prepare_cached(
        "SELECT (SELECT h.valeur FROM qf_history h WHERE h.family_id = f.id
                 ORDER BY h.annee DESC, h.mois DESC, h.recorded_at DESC, h.id DESC LIMIT 1)
         FROM families f WHERE f.commune_id = ?1",
    )?;
    let qfs = statement
        .query_map([commune_id], |row| row.get::<_, Option<u32>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (mut unknown_qf, mut outside) = (0u32, 0u32);
    for qf in &qfs {
        let priced = price_for(&grid, *qf)?;
        match priced.basis {
            Basis::Defaut => unknown_qf += 1,
            Basis::HorsTranches => outside += 1,
            basis => {
                if let Some(row) = rows.iter_mut().find(|r| r.basis == basis) {
                    row.families += 1;
                }
            }
        }
    }
    if outside > 0 {
        rows.push(BracketCount {
            basis: Basis::HorsTranches,
            label: "Hors tranches".into(),
            price_cents: Some(grid.default_cents),
            families: outside,
        });
    }
    Ok(Distribution {
        grid_id: grid.id.unwrap_or_default(),
        service: grid.service.clone(),
        unit: grid.unit.clone(),
        rows,
        unknown_qf,
        total: qfs.len() as u32,
    })
}
