//! The family file exported as CSV for the commune's billing tool (issue 8).
//!
//! Why a module of its own: the billing tool (régie, trésorerie) prices each family from its
//! QF, and communes feed it a spreadsheet or a CSV import. The file leaves the application with
//! names in it, so it is an export in the sense of the access journal (R2) and the agent is
//! warned that it holds personal data ([`PERSONAL_DATA_WARNING`]).
//!
//! - Two [`Preset`]s: "Excel (France)", what a French spreadsheet opens without an import
//!   dialog (UTF-8 with a byte order mark, `;`, decimal comma, `JJ/MM/AAAA`, CRLF), and plain
//!   CSV for import tools (UTF-8 without BOM, `,`, decimal point, ISO dates, LF). Quoting is the
//!   `csv` crate's, as for the journal's own export ([`journal::export_csv`]); a cell an agent
//!   typed that a spreadsheet would run as a formula is kept text the journal's way.
//! - The agent picks the [`Column`]s from a fixed list whose ids are stable, so that a script
//!   (`guichet-qf export --colonnes …`) keeps working when headers are reworded.
//! - "Ressources non connues" is an empty QF cell, never 0: a billing tool would price a 0 as
//!   the lowest bracket.
//! - Every export is journaled (action `Export`, the number of families and the preset, never a
//!   name) in the transaction that writes the file ([`journal::write_journaled`]): a failed
//!   write leaves neither file nor row.
//!
//! Nothing here reads the clock or the environment: `now` and the time zone (for the local day
//! a QF was recorded) are arguments.

use std::io::Write;
use std::path::Path;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::view::{list_for_export, FamilyListing};
use super::{Member, Role};
use crate::error::{Error, Result};
use crate::journal::{self, cell, csv_error};
use crate::store::Store;
use crate::tariffs::{self, Grid};

/// The sentence the window and the command line show with every export.
pub const PERSONAL_DATA_WARNING: &str = "Ce fichier contient des données personnelles \
     (noms, quotients familiaux) : transmettez-le seulement au service de facturation, ne le \
     laissez pas dans un dossier partagé et supprimez-le une fois importé.";

/// How the file is written: for a French spreadsheet or for an import tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export, rename = "ExportPreset")]
pub enum Preset {
    /// UTF-8 with BOM, `;`, decimal comma, `JJ/MM/AAAA`, CRLF.
    ExcelFr,
    /// UTF-8 without BOM, `,`, decimal point, `AAAA-MM-JJ`, LF.
    Csv,
}

impl Preset {
    /// The id the command line and the window use (`excel-fr`, `csv`).
    pub fn id(self) -> &'static str {
        match self {
            Preset::ExcelFr => "excel-fr",
            Preset::Csv => "csv",
        }
    }

    /// The agent's words for it.
    pub fn label(self) -> &'static str {
        match self {
            Preset::ExcelFr => "Excel (France)",
            Preset::Csv => "CSV",
        }
    }

    /// The preset with this id, or a French message naming the two there are.
    pub fn from_id(id: &str) -> Result<Preset> {
        match id.trim() {
            "excel-fr" => Ok(Preset::ExcelFr),
            "csv" => Ok(Preset::Csv),
            other => Err(Error::validation(format!(
                "Format d'export inconnu : « {other} ». Formats possibles : excel-fr \
                 (Excel, France) ou csv."
            ))),
        }
    }

    fn delimiter(self) -> u8 {
        match self {
            Preset::ExcelFr => b';',
            Preset::Csv => b',',
        }
    }

    /// A decimal number given as `units` × 10^−`scale` (1234 at scale 2 is 12.34), written
    /// without going through a float: `12,34` for Excel (France), `12.34` for plain CSV.
    pub fn decimal(self, units: i64, scale: u32) -> String {
        let sign = if units < 0 { "-" } else { "" };
        let units = units.unsigned_abs();
        if scale == 0 {
            return format!("{sign}{units}");
        }
        let factor = 10u64.pow(scale);
        let separator = match self {
            Preset::ExcelFr => ',',
            Preset::Csv => '.',
        };
        format!(
            "{sign}{}{separator}{:0width$}",
            units / factor,
            units % factor,
            width = scale as usize
        )
    }

    /// A day: `23/11/2026` for Excel (France), `2026-11-23` for plain CSV.
    pub fn date(self, day: jiff::civil::Date) -> String {
        match self {
            Preset::ExcelFr => day.strftime("%d/%m/%Y").to_string(),
            Preset::Csv => day.strftime("%Y-%m-%d").to_string(),
        }
    }

    /// A month: `07/2026` for Excel (France), `2026-07` for plain CSV.
    pub fn month(self, annee: i32, mois: i32) -> String {
        match self {
            Preset::ExcelFr => format!("{mois:02}/{annee:04}"),
            Preset::Csv => format!("{annee:04}-{mois:02}"),
        }
    }
}

/// A column the agent may pick, with a stable id and a French header.
///
/// [`Column::Tranche`] and [`Column::Tarif`] stand for one column per service of the commune's
/// tariff grids valid on the export's day ("Tranche cantine", "Tarif cantine (€ par repas)"),
/// so that the ids stay stable whatever services a commune has, and a script asking for
/// `tranche,tarif` gets every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "ExportColumn")]
pub enum Column {
    /// The family's number in the application, stable for its life.
    Famille,
    /// The opaque code of the personal letter's QR code.
    Code,
    /// The allocataires, `NOM Prénoms`, separated by `, `.
    Allocataires,
    /// The children, `NOM Prénoms`, separated by `, `.
    Enfants,
    NombreEnfants,
    /// The last QF in euros; empty for "ressources non connues" or no QF at all.
    Qf,
    /// The month the last QF is for.
    QfMois,
    /// CAF or MSA.
    Organisme,
    /// Where the last QF came from, in words.
    Source,
    /// The local day the last QF was recorded.
    DateEnregistrement,
    /// Whether the family refused the scheduled refresh: `oui` or `non`.
    RefusActualisation,
    /// The day the family's enrolment ended; empty while it is enrolled.
    FinInscription,
    /// The bracket of the last QF in each service's grid ("Tranche 2", "Tarif par défaut…").
    Tranche,
    /// The price from the last QF in each service's grid, in euros.
    Tarif,
}

impl Column {
    /// Every column, in the default order.
    pub const ALL: [Column; 14] = [
        Column::Famille,
        Column::Code,
        Column::Allocataires,
        Column::Enfants,
        Column::NombreEnfants,
        Column::Qf,
        Column::QfMois,
        Column::Organisme,
        Column::Source,
        Column::DateEnregistrement,
        Column::RefusActualisation,
        Column::FinInscription,
        Column::Tranche,
        Column::Tarif,
    ];

    /// The stable id (`--colonnes`, IPC).
    pub fn id(self) -> &'static str {
        match self {
            Column::Famille => "famille",
            Column::Code => "code",
            Column::Allocataires => "allocataires",
            Column::Enfants => "enfants",
            Column::NombreEnfants => "nombre_enfants",
            Column::Qf => "qf",
            Column::QfMois => "qf_mois",
            Column::Organisme => "organisme",
            Column::Source => "source",
            Column::DateEnregistrement => "date_enregistrement",
            Column::RefusActualisation => "refus_actualisation",
            Column::FinInscription => "fin_inscription",
            Column::Tranche => "tranche",
            Column::Tarif => "tarif",
        }
    }

    /// The header in the file, or in the column picker for the per-service columns.
    pub fn header(self) -> &'static str {
        match self {
            Column::Famille => "N° famille",
            Column::Code => "Code famille",
            Column::Allocataires => "Allocataires",
            Column::Enfants => "Enfants",
            Column::NombreEnfants => "Nombre d'enfants",
            Column::Qf => "Quotient familial (€)",
            Column::QfMois => "Mois du QF",
            Column::Organisme => "Organisme",
            Column::Source => "Source du QF",
            Column::DateEnregistrement => "QF enregistré le",
            Column::RefusActualisation => "Refus de l'actualisation",
            Column::FinInscription => "Fin d'inscription",
            Column::Tranche => "Tranche (une colonne par service)",
            Column::Tarif => "Tarif (une colonne par service)",
        }
    }

    /// The column with this id, or a French message listing the ids there are.
    pub fn from_id(id: &str) -> Result<Column> {
        let id = id.trim();
        Column::ALL
            .into_iter()
            .find(|column| column.id() == id)
            .ok_or_else(|| {
                let known = Column::ALL.map(Column::id).join(", ");
                Error::validation(format!(
                    "Colonne inconnue : « {id} ». Colonnes possibles : {known}."
                ))
            })
    }

    /// The columns of a comma-separated list (`qf,famille`), in its order; an empty list, an
    /// unknown id or a column named twice is refused.
    pub fn parse_list(text: &str) -> Result<Vec<Column>> {
        let mut columns = Vec::new();
        for id in text.split(',').filter(|id| !id.trim().is_empty()) {
            let column = Column::from_id(id)?;
            if columns.contains(&column) {
                return Err(Error::validation(format!(
                    "La colonne « {} » est demandée deux fois.",
                    column.id()
                )));
            }
            columns.push(column);
        }
        if columns.is_empty() {
            return Err(Error::validation(
                "Choisissez au moins une colonne à exporter.",
            ));
        }
        Ok(columns)
    }
}

/// A column as the window offers it: its id and its header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "ExportColumnChoice")]
pub struct ColumnChoice {
    pub column: Column,
    pub header: String,
}

/// Every column in the default order, for the window's column picker.
pub fn choices() -> Vec<ColumnChoice> {
    Column::ALL
        .into_iter()
        .map(|column| ColumnChoice {
            column,
            header: column.header().to_string(),
        })
        .collect()
}

/// What to export: a commune's families, how, and which columns in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub commune_id: i64,
    pub preset: Preset,
    pub columns: Vec<Column>,
    /// The day whose tariff grids price the families (the export's local day).
    pub day: Date,
}

/// Where an export went, for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "FamiliesExport")]
pub struct Exported {
    pub path: String,
    /// The number of families (the header line not counted).
    #[ts(type = "number")]
    pub rows: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    /// [`PERSONAL_DATA_WARNING`], to be shown with the result.
    pub warning: String,
}

/// `NOM Prénoms` of the members with this role, separated by `, `.
fn names(members: &[Member], role: Role) -> String {
    members
        .iter()
        .filter(|m| m.role == role)
        .map(|m| format!("{} {}", m.nom_naissance, m.prenoms))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The provider as communes know it: the data says `CNAF`, families and billing say CAF.
fn provider(fournisseur: &str) -> String {
    match fournisseur {
        "CNAF" => "CAF".to_string(),
        other => other.to_string(),
    }
}

fn value(family: &FamilyListing, column: Column, preset: Preset, tz: &TimeZone) -> String {
    let qf = family.last_qf.as_ref();
    match column {
        Column::Famille => family.id.to_string(),
        Column::Code => family.external_id.clone(),
        Column::Allocataires => cell(&names(&family.members, Role::Allocataire)),
        Column::Enfants => cell(&names(&family.members, Role::Enfant)),
        Column::NombreEnfants => family
            .members
            .iter()
            .filter(|m| m.role == Role::Enfant)
            .count()
            .to_string(),
        Column::Qf => qf
            .and_then(|qf| qf.valeur)
            .map(|v| preset.decimal(i64::from(v), 0))
            .unwrap_or_default(),
        Column::QfMois => qf
            .map(|qf| preset.month(qf.annee, qf.mois))
            .unwrap_or_default(),
        Column::Organisme => qf.map(|qf| provider(&qf.fournisseur)).unwrap_or_default(),
        Column::Source => qf.map(|qf| qf.source_label.clone()).unwrap_or_default(),
        Column::DateEnregistrement => qf
            .map(|qf| preset.date(qf.recorded_at.to_zoned(tz.clone()).date()))
            .unwrap_or_default(),
        Column::RefusActualisation => if family.opt_out { "oui" } else { "non" }.to_string(),
        Column::FinInscription => family
            .enrolment_ended_on
            .map(|day| preset.date(day))
            .unwrap_or_default(),
        // Expanded per service by `cells`, which never passes them here.
        Column::Tranche | Column::Tarif => String::new(),
    }
}

/// The file's headers: one per column, one per service for the tariff columns.
fn headers(columns: &[Column], grids: &[Grid]) -> Vec<String> {
    columns
        .iter()
        .flat_map(|&column| -> Vec<String> {
            match column {
                Column::Tranche => grids
                    .iter()
                    .map(|g| format!("Tranche {}", g.service))
                    .collect(),
                Column::Tarif => grids
                    .iter()
                    .map(|g| format!("Tarif {} (€ par {})", g.service, g.unit))
                    .collect(),
                other => vec![other.header().to_string()],
            }
        })
        .collect()
}

/// One family's line: its cells in the columns' order, the tariff columns priced from its
/// last known QF in every grid.
fn cells(
    family: &FamilyListing,
    columns: &[Column],
    grids: &[Grid],
    preset: Preset,
    tz: &TimeZone,
) -> Result<Vec<String>> {
    let wants_tariffs = columns
        .iter()
        .any(|c| matches!(c, Column::Tranche | Column::Tarif));
    let priced = if wants_tariffs {
        let qf = family.last_qf.as_ref().and_then(|qf| qf.valeur);
        tariffs::store::tariffs_for_qf(grids, qf)?
    } else {
        Vec::new()
    };
    let mut line = Vec::new();
    for &column in columns {
        match column {
            Column::Tranche => line.extend(priced.iter().map(|t| t.priced.label.clone())),
            Column::Tarif => line.extend(
                priced
                    .iter()
                    .map(|t| preset.decimal(t.priced.price_cents, 2)),
            ),
            other => line.push(value(family, other, preset, tz)),
        }
    }
    Ok(line)
}

/// Writes the commune's families (oldest first) as `request` asks, headers first. Returns the
/// number of families written.
pub fn write_csv(
    conn: &Connection,
    request: &Request,
    out: &mut impl Write,
    tz: &TimeZone,
) -> Result<usize> {
    if request.columns.is_empty() {
        return Err(Error::validation(
            "Choisissez au moins une colonne à exporter.",
        ));
    }
    let preset = request.preset;
    if preset == Preset::ExcelFr {
        out.write_all("\u{feff}".as_bytes())?;
    }
    let terminator = match preset {
        Preset::ExcelFr => csv::Terminator::CRLF,
        Preset::Csv => csv::Terminator::Any(b'\n'),
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(preset.delimiter())
        .terminator(terminator)
        .from_writer(out);
    let grids = tariffs::store::grids_on(conn, request.commune_id, request.day)?;
    writer
        .write_record(headers(&request.columns, &grids))
        .map_err(csv_error)?;
    let families = list_for_export(conn, request.commune_id)?;
    for family in &families {
        writer
            .write_record(cells(family, &request.columns, &grids, preset, tz)?)
            .map_err(csv_error)?;
    }
    writer.flush()?;
    Ok(families.len())
}

/// Exports the commune's families to `path` and journals the export (action `Export` by
/// `agent`, the number of families and the preset) in the same transaction; the file appears
/// complete or not at all.
pub fn export_file(
    store: &Store,
    request: &Request,
    path: &Path,
    agent: &str,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<Exported> {
    let (rows, bytes) = journal::write_journaled(store, path, |tx, mut out| {
        let rows = write_csv(tx, request, &mut out, tz)?;
        let mut entry = journal::Entry::new(now, agent, journal::Action::Export);
        entry.commune_id = Some(request.commune_id);
        entry.detail = Some(format!(
            "Familles pour la facturation : {rows} famille(s), format {}",
            request.preset.label()
        ));
        Ok((rows, entry))
    })?;
    Ok(Exported {
        path: path.display().to_string(),
        rows: rows as u64,
        bytes,
        warning: PERSONAL_DATA_WARNING.to_string(),
    })
}

/// A file name for an export made at `now`: `familles-2026-11-23-0946.csv`, in `dir`, with a
/// number added when that name is taken.
pub fn export_path(dir: &Path, now: Timestamp, tz: &TimeZone) -> std::path::PathBuf {
    let stamp = now
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d-%H%M")
        .to_string();
    let mut path = dir.join(format!("familles-{stamp}.csv"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("familles-{stamp}-{n}.csv"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests;
