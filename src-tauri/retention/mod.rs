//! How long each class of personal data is kept, and the purge that removes what outlived its
//! limit (issue 8; users-and-peers §3.2, R3 and R8).
//!
//! Why it is built this way:
//! - **One installation-wide set of limits** ([`Retention`]), stored as settings, with the
//!   defaults the DPO is asked to validate. The journal's limit can only go up from 36 months
//!   (API Particulier and formulaire-QF CGU), and above 36 months DataPass wants a reason, so
//!   the note is required.
//! - **The dry run and the real run are the same computation** ([`selection`]): the report an
//!   administrator reads before purging is exactly what the purge then removes, given the same
//!   `today` and `now`. Nothing here reads the clock.
//! - **Conservative by construction**: a dossier not yet acknowledged, new, incomplete or to
//!   check is never touched, nor a family that still has one; a still-enrolled family keeps its
//!   most recent QF (the basis of its current tariff); unfinished refresh runs stay.
//! - **A safety backup, then one transaction**: the purge backs the database up, deletes every
//!   class in one transaction together with the journal's own purge, one `Elimination` journal
//!   row (counts only, never a name) and the report in `purges`/`purge_communes`, kept for the
//!   "bordereau d'élimination" the archives départementales visa. The export files are removed
//!   after the commit, since a file cannot be rolled back.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::families::{person_key, BirthParts};
use crate::journal;
use crate::store::backup::{self, BackupKind};
use crate::store::{self, Store};

#[cfg(test)]
mod tests;

/// The shortest journal retention allowed (API Particulier FAQ, formulaire-QF CGU §2.1.3).
pub const JOURNAL_MINIMUM_MONTHS: u32 = journal::RETENTION_MONTHS as u32;

const QF_KEY: &str = "retention_qf_history_months";
const IDENTITY_KEY: &str = "retention_identity_days";
const FAMILY_KEY: &str = "retention_family_months";
const FILES_KEY: &str = "retention_dossier_files_days";
const EXPORTS_KEY: &str = "retention_export_days";
const JOURNAL_KEY: &str = "retention_journal_months";
const JUSTIFICATION_KEY: &str = "retention_journal_justification";

/// The retention limits of the installation, each counted back from the day of the purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Retention {
    /// Months a QF entry (and a finished refresh run) is kept after it was recorded: the
    /// current tariff period and one year for billing disputes.
    pub qf_history_months: u32,
    /// Days after the end of enrolment, or after an opt-out of the refresh, before the pivot
    /// identity (birth date, birth place, sex) is cleared.
    pub identity_days: u32,
    /// Months after the end of enrolment before the whole family file goes.
    pub family_months: u32,
    /// Days after a dossier was closed (traité, refusé, clôturé) before its Hubee files go.
    pub dossier_files_days: u32,
    /// Days the application's own export files are kept in the export folder.
    pub export_days: u32,
    /// Months the access journal is kept: 36 at least.
    pub journal_months: u32,
    /// Why the journal is kept more than 36 months (required above 36, as on DataPass).
    pub journal_justification: String,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            qf_history_months: 24,
            identity_days: 0,
            family_months: 12,
            dossier_files_days: 30,
            export_days: 7,
            journal_months: JOURNAL_MINIMUM_MONTHS,
            journal_justification: String::new(),
        }
    }
}

/// Every problem of `retention`, in French, one per field.
pub fn problems(retention: &Retention) -> Vec<String> {
    let mut problems = Vec::new();
    if !(12..=120).contains(&retention.qf_history_months) {
        problems.push(
            "Historique des QF : entre 12 et 120 mois (la période tarifaire en cours et une \
             année pour les contestations de factures)."
                .to_string(),
        );
    }
    if retention.identity_days > 365 {
        problems.push(
            "Identité de référence : 365 jours au plus après la fin d'inscription ou l'arrêt \
             de l'actualisation."
                .to_string(),
        );
    }
    if retention.family_months > 120 {
        problems.push("Dossier famille : 120 mois au plus après la fin d'inscription.".to_string());
    }
    if retention.dossier_files_days > 3650 {
        problems.push(
            "Fichiers des dossiers Hubee : 3 650 jours au plus après la clôture du dossier."
                .to_string(),
        );
    }
    if retention.export_days > 365 {
        problems.push("Fichiers d'export : 365 jours au plus.".to_string());
    }
    if retention.journal_months < JOURNAL_MINIMUM_MONTHS {
        problems.push(format!(
            "Journal des accès : {JOURNAL_MINIMUM_MONTHS} mois au moins (conditions d'API \
             Particulier et du formulaire QF)."
        ));
    } else if retention.journal_months > 120 {
        problems.push("Journal des accès : 120 mois au plus.".to_string());
    } else if retention.journal_months > JOURNAL_MINIMUM_MONTHS
        && retention.journal_justification.trim().is_empty()
    {
        problems.push(format!(
            "Journal des accès : au-delà de {JOURNAL_MINIMUM_MONTHS} mois, indiquez la \
             justification (elle est demandée sur DataPass)."
        ));
    }
    if retention.journal_justification.chars().count() > 1000 {
        problems.push("Justification : 1 000 caractères au plus.".to_string());
    }
    problems
}

/// Refuses limits with a problem, naming every one.
pub fn validate(retention: &Retention) -> Result<()> {
    let problems = problems(retention);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(problems.join(" ")))
    }
}

/// The installation's limits, the defaults where none was saved.
pub fn get(conn: &Connection) -> Result<Retention> {
    let defaults = Retention::default();
    let number = |key: &str, default: u32| -> Result<u32> {
        Ok(store::setting(conn, key)?
            .and_then(|value| value.parse().ok())
            .unwrap_or(default))
    };
    Ok(Retention {
        qf_history_months: number(QF_KEY, defaults.qf_history_months)?,
        identity_days: number(IDENTITY_KEY, defaults.identity_days)?,
        family_months: number(FAMILY_KEY, defaults.family_months)?,
        dossier_files_days: number(FILES_KEY, defaults.dossier_files_days)?,
        export_days: number(EXPORTS_KEY, defaults.export_days)?,
        journal_months: number(JOURNAL_KEY, defaults.journal_months)?,
        journal_justification: store::setting(conn, JUSTIFICATION_KEY)?.unwrap_or_default(),
    })
}

/// Saves the limits after checking them, and gives them back as stored.
pub fn save(store: &Store, retention: &Retention) -> Result<Retention> {
    validate(retention)?;
    store.write(|tx| {
        for (key, value) in [
            (QF_KEY, retention.qf_history_months),
            (IDENTITY_KEY, retention.identity_days),
            (FAMILY_KEY, retention.family_months),
            (FILES_KEY, retention.dossier_files_days),
            (EXPORTS_KEY, retention.export_days),
            (JOURNAL_KEY, retention.journal_months),
        ] {
            store::set_setting(tx, key, &value.to_string())?;
        }
        store::set_setting(
            tx,
            JUSTIFICATION_KEY,
            retention.journal_justification.trim(),
        )?;
        get(tx)
    })
}

// ---------------------------------------------------------------------------------------------
// What a purge removes.

/// What a purge removes (or removed) in one commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommunePurge {
    #[ts(type = "number")]
    pub commune_id: i64,
    pub commune_siret: String,
    pub commune_name: String,
    /// Whole family files (members, history, aliases, notes, refresh items, their dossiers).
    pub families: u32,
    /// Pivot identities cleared (the family stays, no longer refreshable).
    pub identities: u32,
    /// QF history entries, those of the families removed whole not counted.
    pub qf_entries: u32,
    /// Finished refresh runs with their items.
    pub refresh_runs: u32,
    /// Whole dossiers: those of the families removed, and closed ones attached to no family.
    pub dossiers: u32,
    /// Closed dossiers whose Hubee files (PDF/JSON) go; the dossier itself stays.
    pub dossier_files: u32,
    /// Dossiers of a family removed whole kept because another family's QF history still
    /// names them as its source.
    pub kept_referenced: u32,
    /// The oldest and newest day of what is removed (recorded, received or ended).
    #[ts(type = "string | null")]
    pub removed_from: Option<Date>,
    #[ts(type = "string | null")]
    pub removed_to: Option<Date>,
    /// "Majastres : 2 familles, 3 dossiers…".
    pub summary: String,
}

/// The report of a purge, simulated or done: what a "bordereau d'élimination" needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PurgeReport {
    /// The stored purge's number; `None` for a simulation or when nothing was removed.
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    pub dry_run: bool,
    #[ts(type = "string")]
    pub at: Timestamp,
    pub agent: String,
    pub limits: Retention,
    /// Only the communes where something is removed.
    pub communes: Vec<CommunePurge>,
    /// Journal rows older than `journal_before`.
    pub journal_rows: u32,
    #[ts(type = "string")]
    pub journal_before: Timestamp,
    /// The names of the export files removed from the export folder.
    pub export_files: Vec<String>,
    /// The safety backup made just before the purge.
    pub backup_name: Option<String>,
    /// "N familles, M dossiers… seront supprimés", or "Rien à supprimer…".
    pub summary: String,
}

impl PurgeReport {
    /// True when the purge removes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.communes.is_empty() && self.journal_rows == 0 && self.export_files.is_empty()
    }
}

/// What one commune's purge removes, by row id.
#[derive(Debug, Default)]
struct CommuneSelection {
    commune_id: i64,
    siret: String,
    name: String,
    families: Vec<i64>,
    identities: Vec<i64>,
    qf_entries: Vec<i64>,
    refresh_runs: Vec<i64>,
    dossiers: Vec<i64>,
    dossier_files: Vec<i64>,
    /// Dossiers of families removed whole that another family's QF history still names.
    kept_referenced: Vec<i64>,
    days: Vec<Date>,
}

impl CommuneSelection {
    fn is_empty(&self) -> bool {
        self.families.is_empty()
            && self.identities.is_empty()
            && self.qf_entries.is_empty()
            && self.refresh_runs.is_empty()
            && self.dossiers.is_empty()
            && self.dossier_files.is_empty()
    }
}

/// What a purge removes, computed once for the dry run and the real run alike.
struct Selection {
    communes: Vec<CommuneSelection>,
    journal_before: Timestamp,
    journal_rows: usize,
    export_files: Vec<PathBuf>,
}

/// The limits as moments: a thing is removed when its moment is strictly before its limit.
struct Cutoffs {
    qf: Timestamp,
    identity: Date,
    family: Date,
    files: Timestamp,
    exports: Timestamp,
    journal: Timestamp,
}

fn months_before(now: Timestamp, months: u32) -> Result<Timestamp> {
    now.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_sub(i64::from(months).months())
        .map(|zoned| zoned.timestamp())
        .map_err(|error| Error::new(Code::Internal, "Date hors limites.").with_source(error))
}

fn days_before(now: Timestamp, days: u32) -> Result<Timestamp> {
    now.checked_sub((i64::from(days) * 24).hours())
        .map_err(|error| Error::new(Code::Internal, "Date hors limites.").with_source(error))
}

fn date_minus(today: Date, span: jiff::Span) -> Result<Date> {
    today
        .checked_sub(span)
        .map_err(|error| Error::new(Code::Internal, "Date hors limites.").with_source(error))
}

fn cutoffs(retention: &Retention, today: Date, now: Timestamp) -> Result<Cutoffs> {
    Ok(Cutoffs {
        qf: months_before(now, retention.qf_history_months)?,
        identity: date_minus(today, i64::from(retention.identity_days).days())?,
        family: date_minus(today, i64::from(retention.family_months).months())?,
        files: days_before(now, retention.dossier_files_days)?,
        exports: days_before(now, retention.export_days)?,
        journal: months_before(now, retention.journal_months.max(JOURNAL_MINIMUM_MONTHS))?,
    })
}

fn timestamp(text: Option<&str>) -> Option<Timestamp> {
    text.and_then(|t| t.parse().ok())
}

fn day(text: Option<&str>) -> Option<Date> {
    text.and_then(|t| t.parse().ok())
}

fn utc_day(at: Timestamp) -> Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// A dossier as the purge sees it.
struct DossierRow {
    id: i64,
    family_id: Option<i64>,
    received_at: Option<Timestamp>,
    /// Acknowledged on Hubee and traité, refusé or clôturé: when it was closed.
    closed: Option<Timestamp>,
    has_files: bool,
    /// The family whose QF history names this dossier as its source, if any.
    history_family: Option<i64>,
}

fn dossier_rows(conn: &Connection, commune_id: i64) -> Result<Vec<DossierRow>> {
    let mut statement = conn.prepare(
        "SELECT d.id, fd.family_id, d.statut, d.acknowledged_at, d.decided_at, d.closed_at,
                d.updated_at, d.received_at,
                d.files_eliminated_at IS NULL
                  AND (d.raw_json IS NOT NULL
                       OR EXISTS (SELECT 1 FROM dossier_files f WHERE f.dossier_id = d.id)),
                (SELECT h.family_id FROM qf_history h WHERE h.dossier_id = d.id)
         FROM dossiers d LEFT JOIN family_dossiers fd ON fd.dossier_id = d.id
         WHERE d.commune_id = ?1 ORDER BY d.id",
    )?;
    let rows = statement
        .query_map([commune_id], |row| {
            let statut: String = row.get(2)?;
            let acknowledged: Option<String> = row.get(3)?;
            let decided: Option<String> = row.get(4)?;
            let closed: Option<String> = row.get(5)?;
            let updated: String = row.get(6)?;
            let received: String = row.get(7)?;
            let is_closed = matches!(statut.as_str(), "traite" | "refuse" | "cloture")
                && acknowledged.is_some();
            Ok(DossierRow {
                id: row.get(0)?,
                family_id: row.get(1)?,
                received_at: timestamp(Some(&received)),
                closed: if is_closed {
                    timestamp(decided.as_deref().or(closed.as_deref()).or(Some(&updated)))
                } else {
                    None
                },
                has_files: row.get(8)?,
                history_family: row.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn commune_selection(
    conn: &Connection,
    commune_id: i64,
    siret: String,
    name: String,
    cut: &Cutoffs,
) -> Result<CommuneSelection> {
    let mut selection = CommuneSelection {
        commune_id,
        siret,
        name,
        ..CommuneSelection::default()
    };
    let dossiers = dossier_rows(conn, commune_id)?;

    // Families: whole files first, then pivot identities of the others.
    let mut statement = conn.prepare(
        "SELECT f.id, f.enrolment_ended_on, f.opt_out_on,
                EXISTS (SELECT 1 FROM family_members m WHERE m.family_id = f.id AND m.pivot = 1)
         FROM families f WHERE f.commune_id = ?1 ORDER BY f.id",
    )?;
    let families = statement
        .query_map([commune_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, bool>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut enrolled = std::collections::HashSet::new();
    for (family_id, ended_on, opt_out_on, has_pivot) in families {
        let ended_on = day(ended_on.as_deref());
        if ended_on.is_none() {
            enrolled.insert(family_id);
        }
        // A family goes whole only when every one of its dossiers may go too.
        let its_dossiers: Vec<&DossierRow> = dossiers
            .iter()
            .filter(|d| d.family_id == Some(family_id))
            .collect();
        let dossiers_may_go = its_dossiers
            .iter()
            .all(|d| d.closed.is_some_and(|closed| closed < cut.files));
        if let Some(ended) = ended_on.filter(|ended| *ended < cut.family) {
            if dossiers_may_go {
                selection.families.push(family_id);
                selection.days.push(ended);
                for dossier in its_dossiers {
                    // Another family's QF entry still names this dossier as its source: the
                    // dossier stays (detached) rather than make the whole purge fail, and a
                    // later purge takes it once that entry is gone.
                    if dossier
                        .history_family
                        .is_some_and(|other| other != family_id)
                    {
                        selection.kept_referenced.push(dossier.id);
                        continue;
                    }
                    selection.dossiers.push(dossier.id);
                    selection.days.extend(dossier.received_at.map(utc_day));
                }
                continue;
            }
        }
        if has_pivot {
            let since = [ended_on, day(opt_out_on.as_deref())]
                .into_iter()
                .flatten()
                .filter(|since| *since < cut.identity)
                .min();
            if let Some(since) = since {
                selection.identities.push(family_id);
                selection.days.push(since);
            }
        }
    }

    // QF history: old entries, except each still-enrolled family's most recent one.
    let mut statement = conn.prepare(
        "SELECT h.id, h.family_id, h.recorded_at FROM qf_history h
         JOIN families f ON f.id = h.family_id WHERE f.commune_id = ?1
         ORDER BY h.family_id, h.annee DESC, h.mois DESC, h.recorded_at DESC, h.id DESC",
    )?;
    let entries = statement
        .query_map([commune_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut previous_family = None;
    for (id, family_id, recorded_at) in entries {
        let latest = previous_family != Some(family_id);
        previous_family = Some(family_id);
        if selection.families.contains(&family_id) || (latest && enrolled.contains(&family_id)) {
            continue;
        }
        if let Some(recorded) = timestamp(Some(&recorded_at)).filter(|at| *at < cut.qf) {
            selection.qf_entries.push(id);
            selection.days.push(utc_day(recorded));
        }
    }

    // Finished refresh runs.
    let mut statement = conn.prepare(
        "SELECT id, started_at FROM refresh_runs
         WHERE commune_id = ?1 AND state IN ('appliquee', 'abandonnee') ORDER BY id",
    )?;
    let runs = statement
        .query_map([commune_id], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, started_at) in runs {
        if let Some(started) = timestamp(Some(&started_at)).filter(|at| *at < cut.qf) {
            selection.refresh_runs.push(id);
            selection.days.push(utc_day(started));
        }
    }

    // Dossiers not in a family removed whole: closed ones of no family after the QF limit,
    // otherwise the files of closed ones after their own limit.
    for dossier in &dossiers {
        if selection.dossiers.contains(&dossier.id)
            || selection.kept_referenced.contains(&dossier.id)
        {
            continue;
        }
        let Some(closed) = dossier.closed else {
            continue;
        };
        if dossier.family_id.is_none() && dossier.history_family.is_none() && closed < cut.qf {
            selection.dossiers.push(dossier.id);
            selection.days.extend(dossier.received_at.map(utc_day));
        } else if dossier.has_files && closed < cut.files {
            selection.dossier_files.push(dossier.id);
            selection.days.extend(dossier.received_at.map(utc_day));
        }
    }
    Ok(selection)
}

/// Whether `name` is one the application gives its own exports: `familles-…` (the billing
/// export) or `journal-des-acces-…` (the journal), then `AAAA-MM-JJ-HHMM`, maybe `-N`, `.csv`.
pub fn is_app_export_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("familles-")
        .or_else(|| name.strip_prefix("journal-des-acces-"))
    else {
        return false;
    };
    let Some(rest) = rest.strip_suffix(".csv") else {
        return false;
    };
    let (stamp, number) = match rest.get(15..) {
        Some("") => (rest, None),
        Some(tail) => match tail.strip_prefix('-') {
            Some(number) => (&rest[..15], Some(number)),
            None => return false,
        },
        None => return false,
    };
    let shape_ok = stamp.char_indices().all(|(i, c)| match i {
        4 | 7 | 10 => c == '-',
        _ => c.is_ascii_digit(),
    });
    let number_ok = number.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    stamp.len() == 15 && shape_ok && number_ok
}

fn export_files(dir: Option<&Path>, cutoff: Timestamp) -> Result<Vec<PathBuf>> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let metadata = entry.metadata()?;
        if !metadata.is_file() || !is_app_export_name(name) {
            continue;
        }
        let modified = Timestamp::try_from(metadata.modified()?)
            .map_err(|error| Error::new(Code::Internal, "Date hors limites.").with_source(error))?;
        if modified < cutoff {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

fn selection(
    conn: &Connection,
    retention: &Retention,
    today: Date,
    now: Timestamp,
    exports_dir: Option<&Path>,
) -> Result<Selection> {
    let cut = cutoffs(retention, today, now)?;
    let mut statement = conn.prepare("SELECT id, siret, name FROM communes ORDER BY id")?;
    let communes = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
    let mut selected = Vec::new();
    for (id, siret, name) in communes {
        let commune = commune_selection(conn, id, siret, name, &cut)?;
        if !commune.is_empty() {
            selected.push(commune);
        }
    }
    Ok(Selection {
        communes: selected,
        journal_before: cut.journal,
        journal_rows: journal::purgeable(conn, cut.journal)?,
        export_files: export_files(exports_dir, cut.exports)?,
    })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One class in a French sentence, with what the participle agrees with.
struct Part {
    text: String,
    plural: bool,
    feminine: bool,
}

/// "1 famille", "3 familles".
fn counted(n: u32, singular: &str, plural: &str, feminine: bool) -> Part {
    Part {
        text: format!("{n} {}", if n > 1 { plural } else { singular }),
        plural: n > 1,
        feminine,
    }
}

fn parts(commune: &CommunePurge) -> Vec<Part> {
    let some = |n: u32, singular: &str, plural: &str, feminine: bool| {
        (n > 0).then(|| counted(n, singular, plural, feminine))
    };
    let files = (commune.dossier_files > 0).then(|| Part {
        text: format!(
            "les fichiers Hubee de {}",
            counted(
                commune.dossier_files,
                "dossier clos",
                "dossiers clos",
                false
            )
            .text
        ),
        plural: true,
        feminine: false,
    });
    [
        some(commune.families, "famille", "familles", true),
        some(commune.dossiers, "dossier", "dossiers", false),
        some(commune.qf_entries, "entrée de QF", "entrées de QF", true),
        some(
            commune.identities,
            "identité de référence",
            "identités de référence",
            true,
        ),
        files,
        some(
            commune.refresh_runs,
            "actualisation terminée",
            "actualisations terminées",
            true,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// "2 familles, 1 dossier seront supprimés": the verb agrees with the whole list (masculine
/// as soon as one part is), future for the simulation, past for the purge done.
fn sentence(parts: &[Part], dry_run: bool) -> String {
    let plural = parts.len() > 1 || parts.iter().any(|part| part.plural);
    let feminine = parts.iter().all(|part| part.feminine);
    let auxiliary = match (dry_run, plural) {
        (true, false) => "sera",
        (true, true) => "seront",
        (false, false) => "a été",
        (false, true) => "ont été",
    };
    let participle = match (plural, feminine) {
        (false, false) => "supprimé",
        (false, true) => "supprimée",
        (true, false) => "supprimés",
        (true, true) => "supprimées",
    };
    let texts: Vec<&str> = parts.iter().map(|part| part.text.as_str()).collect();
    format!("{} {auxiliary} {participle}.", texts.join(", "))
}

fn commune_summary(commune: &CommunePurge, dry_run: bool) -> String {
    let mut summary = format!(
        "{} : {}",
        commune.commune_name,
        sentence(&parts(commune), dry_run)
    );
    summary.push_str(&kept_sentence(commune.kept_referenced));
    summary
}

/// " 1 dossier conservé car encore référencé.", empty when none was kept.
fn kept_sentence(kept: u32) -> String {
    match kept {
        0 => String::new(),
        1 => " 1 dossier conservé car encore référencé par l'historique d'une autre famille."
            .to_string(),
        n => format!(
            " {n} dossiers conservés car encore référencés par l'historique d'autres familles."
        ),
    }
}

fn report(
    selection: &Selection,
    retention: &Retention,
    dry_run: bool,
    agent: &str,
    now: Timestamp,
) -> PurgeReport {
    let communes: Vec<CommunePurge> = selection
        .communes
        .iter()
        .map(|c| {
            let mut commune = CommunePurge {
                commune_id: c.commune_id,
                commune_siret: c.siret.clone(),
                commune_name: c.name.clone(),
                families: count(c.families.len()),
                identities: count(c.identities.len()),
                qf_entries: count(c.qf_entries.len()),
                refresh_runs: count(c.refresh_runs.len()),
                dossiers: count(c.dossiers.len()),
                dossier_files: count(c.dossier_files.len()),
                kept_referenced: count(c.kept_referenced.len()),
                removed_from: c.days.iter().min().copied(),
                removed_to: c.days.iter().max().copied(),
                summary: String::new(),
            };
            commune.summary = commune_summary(&commune, dry_run);
            commune
        })
        .collect();
    let export_files: Vec<String> = selection
        .export_files
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
        .collect();
    let mut report = PurgeReport {
        id: None,
        dry_run,
        at: now,
        agent: agent.to_string(),
        limits: retention.clone(),
        communes,
        journal_rows: count(selection.journal_rows),
        journal_before: selection.journal_before,
        export_files,
        backup_name: None,
        summary: String::new(),
    };
    report.summary = summary(&report);
    report
}

/// The one French line an administrator reads: every class added up over the communes.
fn summary(report: &PurgeReport) -> String {
    if report.is_empty() {
        return "Rien à supprimer : aucune donnée n'a dépassé sa durée de conservation."
            .to_string();
    }
    let total = |f: fn(&CommunePurge) -> u32| report.communes.iter().map(f).sum::<u32>();
    let all = CommunePurge {
        commune_id: 0,
        commune_siret: String::new(),
        commune_name: String::new(),
        families: total(|c| c.families),
        identities: total(|c| c.identities),
        qf_entries: total(|c| c.qf_entries),
        refresh_runs: total(|c| c.refresh_runs),
        dossiers: total(|c| c.dossiers),
        dossier_files: total(|c| c.dossier_files),
        kept_referenced: total(|c| c.kept_referenced),
        removed_from: None,
        removed_to: None,
        summary: String::new(),
    };
    let mut parts = parts(&all);
    if report.journal_rows > 0 {
        parts.push(counted(
            report.journal_rows,
            "ligne du journal des accès",
            "lignes du journal des accès",
            true,
        ));
    }
    let exports = count(report.export_files.len());
    if exports > 0 {
        parts.push(counted(
            exports,
            "fichier d'export",
            "fichiers d'export",
            false,
        ));
    }
    sentence(&parts, report.dry_run)
}

/// What a purge with `retention` would remove at `today`/`now` (a pure read): the dry run.
/// `exports_dir` is the folder where the application writes its exports, if any.
pub fn plan(
    conn: &Connection,
    retention: &Retention,
    today: Date,
    now: Timestamp,
    exports_dir: Option<&Path>,
) -> Result<PurgeReport> {
    let selection = selection(conn, retention, today, now, exports_dir)?;
    Ok(report(&selection, retention, true, "", now))
}

fn delete_selection(
    tx: &Transaction<'_>,
    commune: &CommuneSelection,
    now: Timestamp,
) -> Result<()> {
    let now_text = now.to_string();
    for id in &commune.dossiers {
        tx.execute("DELETE FROM family_candidates WHERE dossier_id = ?1", [id])?;
    }
    for id in &commune.families {
        tx.execute("DELETE FROM family_search WHERE rowid = ?1", [id])?;
        tx.execute("DELETE FROM families WHERE id = ?1", [id])?;
    }
    for id in &commune.dossiers {
        tx.execute("DELETE FROM dossiers WHERE id = ?1", [id])?;
    }
    for id in &commune.qf_entries {
        tx.execute("DELETE FROM qf_history WHERE id = ?1", [id])?;
    }
    for id in &commune.refresh_runs {
        tx.execute("DELETE FROM refresh_runs WHERE id = ?1", [id])?;
    }
    for family_id in &commune.identities {
        let pivot: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, prenoms FROM family_members WHERE family_id = ?1 AND pivot = 1",
                [family_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((member_id, prenoms)) = pivot {
            tx.execute(
                "UPDATE family_members SET sexe = NULL, annee_naissance = NULL,
                 mois_naissance = NULL, jour_naissance = NULL, pays_naissance = NULL,
                 commune_naissance = NULL, commune_naissance_nom = NULL,
                 departement_naissance = NULL, pivot = 0, person_key = ?2 WHERE id = ?1",
                params![member_id, person_key(&prenoms, &BirthParts::default())],
            )?;
        }
        tx.execute(
            "UPDATE families SET identity_cleared_at = ?2 WHERE id = ?1",
            params![family_id, now_text],
        )?;
    }
    for id in &commune.dossier_files {
        tx.execute("DELETE FROM dossier_files WHERE dossier_id = ?1", [id])?;
        tx.execute(
            "UPDATE dossiers SET raw_json = NULL, files_eliminated_at = ?2 WHERE id = ?1",
            params![id, now_text],
        )?;
    }
    Ok(())
}

fn store_report(tx: &Transaction<'_>, report: &PurgeReport) -> Result<i64> {
    let limits = serde_json::to_string(&report.limits)
        .map_err(|error| Error::new(Code::Internal, "Limites illisibles.").with_source(error))?;
    tx.execute(
        "INSERT INTO purges (at, agent, limits, backup_name, journal_rows, journal_before,
         export_files) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            report.at.to_string(),
            report.agent,
            limits,
            report.backup_name.as_deref().unwrap_or_default(),
            report.journal_rows,
            report.journal_before.to_string(),
            report.export_files.join("\n"),
        ],
    )?;
    let id = tx.last_insert_rowid();
    for commune in &report.communes {
        tx.execute(
            "INSERT INTO purge_communes (purge_id, commune_id, commune_siret, commune_name,
             families, identities, qf_entries, refresh_runs, dossiers, dossier_files,
             removed_from, removed_to, kept_referenced)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                commune.commune_id,
                commune.commune_siret,
                commune.commune_name,
                commune.families,
                commune.identities,
                commune.qf_entries,
                commune.refresh_runs,
                commune.dossiers,
                commune.dossier_files,
                commune.removed_from.map(|d| d.to_string()),
                commune.removed_to.map(|d| d.to_string()),
                commune.kept_referenced,
            ],
        )?;
    }
    Ok(id)
}

/// The purge. `dry_run`: the report of what would be removed, nothing written. Otherwise a
/// safety backup, then every class removed in one transaction with the journal's own purge, one
/// `Elimination` journal row and the report stored in `purges`; the export files last. Nothing
/// to remove: no backup, no journal row, nothing stored.
pub fn purge(
    store: &Store,
    retention: &Retention,
    dry_run: bool,
    agent: &str,
    now: Timestamp,
    today: Date,
    exports_dir: Option<&Path>,
) -> Result<PurgeReport> {
    validate(retention)?;
    let agent = agent.trim();
    if agent.is_empty() {
        return Err(Error::validation("Agent : obligatoire pour la purge."));
    }
    let planned = store.read(|conn| {
        let selection = selection(conn, retention, today, now, exports_dir)?;
        Ok(report(&selection, retention, dry_run, agent, now))
    })?;
    if dry_run || planned.is_empty() {
        return Ok(planned);
    }
    let backup = backup::create(store, BackupKind::Safety, now)?;
    let (report, files) = store.write(|tx| {
        let selection = selection(tx, retention, today, now, exports_dir)?;
        let mut report = report(&selection, retention, false, agent, now);
        report.backup_name = Some(backup.name.clone());
        for commune in &selection.communes {
            delete_selection(tx, commune, now)?;
        }
        if selection.journal_rows > 0 {
            journal::purge_older_than(tx, selection.journal_before, now, agent)?;
        }
        let id = store_report(tx, &report)?;
        report.id = Some(id);
        let mut entry = journal::Entry::new(now, agent, journal::Action::Elimination);
        entry.reference = Some(format!("purge {id}"));
        entry.detail = Some(journal_detail(&report));
        journal::append(tx, &entry)?;
        Ok((report, selection.export_files))
    })?;
    for file in files {
        if let Err(error) = std::fs::remove_file(&file) {
            tracing::warn!(file = %file.display(), %error, "export file not removed by the purge");
        }
    }
    Ok(report)
}

/// The journal row's detail: counts only, within the journal's 300 characters.
fn journal_detail(report: &PurgeReport) -> String {
    let mut detail = report.summary.clone();
    if let Some(backup) = &report.backup_name {
        detail.push_str(&format!(" Sauvegarde : {backup}."));
    }
    detail.chars().take(300).collect()
}

/// The stored purges, newest first.
pub fn list(conn: &Connection) -> Result<Vec<PurgeReport>> {
    let mut statement = conn.prepare(
        "SELECT id, at, agent, limits, backup_name, journal_rows, journal_before, export_files
         FROM purges ORDER BY id DESC",
    )?;
    let purges = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, u32>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut communes = conn.prepare(
        "SELECT commune_id, commune_siret, commune_name, families, identities, qf_entries,
         refresh_runs, dossiers, dossier_files, removed_from, removed_to, kept_referenced
         FROM purge_communes WHERE purge_id = ?1 ORDER BY commune_id",
    )?;
    let mut reports = Vec::with_capacity(purges.len());
    for (id, at, agent, limits, backup_name, journal_rows, journal_before, exports) in purges {
        let communes = communes
            .query_map([id], |row| {
                Ok(CommunePurge {
                    commune_id: row.get(0)?,
                    commune_siret: row.get(1)?,
                    commune_name: row.get(2)?,
                    families: row.get(3)?,
                    identities: row.get(4)?,
                    qf_entries: row.get(5)?,
                    refresh_runs: row.get(6)?,
                    dossiers: row.get(7)?,
                    dossier_files: row.get(8)?,
                    removed_from: day(row.get::<_, Option<String>>(9)?.as_deref()),
                    removed_to: day(row.get::<_, Option<String>>(10)?.as_deref()),
                    kept_referenced: row.get(11)?,
                    summary: String::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let communes = communes
            .into_iter()
            .map(|mut commune| {
                commune.summary = commune_summary(&commune, false);
                commune
            })
            .collect();
        let mut report = PurgeReport {
            id: Some(id),
            dry_run: false,
            at: timestamp(Some(&at)).unwrap_or(Timestamp::UNIX_EPOCH),
            agent,
            limits: serde_json::from_str(&limits).unwrap_or_default(),
            communes,
            journal_rows,
            journal_before: timestamp(Some(&journal_before)).unwrap_or(Timestamp::UNIX_EPOCH),
            export_files: exports
                .lines()
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
            backup_name: Some(backup_name),
            summary: String::new(),
        };
        report.summary = summary(&report);
        reports.push(report);
    }
    Ok(reports)
}

/// The dry run with the installation's saved limits, as the Paramètres section shows it.
pub fn preview(
    conn: &Connection,
    today: Date,
    now: Timestamp,
    exports_dir: Option<&Path>,
) -> Result<PurgeReport> {
    let limits = get(conn)?;
    plan(conn, &limits, today, now, exports_dir)
}

/// The real purge with the installation's saved limits, by `agent`.
pub fn purge_saved(
    store: &Store,
    agent: &str,
    now: Timestamp,
    today: Date,
    exports_dir: Option<&Path>,
) -> Result<PurgeReport> {
    let limits = store.read(get)?;
    purge(store, &limits, false, agent, now, today, exports_dir)
}
