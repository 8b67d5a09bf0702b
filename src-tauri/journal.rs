//! The access journal: who looked at a family's data, when, from which commune and why.
//!
//! The API Particulier CGU and the formulaire-QF CGU (§2.1.3) require every access by an agent to
//! be traced for at least 36 months; the DPO must be able to read the trace. One row per API
//! Particulier call, dossier opened, export, print… (see [`Action`]). A row holds the time, the
//! agent's name *at the time*, the commune (SIRET and name copied, so the row survives the
//! commune), the motif, the family or dossier reference, the endpoint, the `recipient`, the HTTP
//! status, the API error code and the `X-Request-Id`. **Never** a token, a payload or an identity
//! field (names, birth date…): the reference is the only link to a family, and the free-text
//! fields (`motif`, `detail`) are short and bounded ([`check`]).
//!
//! # Writing
//!
//! [`append`] runs inside the caller's transaction, so an action and its journal row commit
//! together or not at all. Time is passed in; this module never reads the clock.
//!
//! # Tamper evidence
//!
//! Rows are numbered without gaps (`id` 1, 2, 3…). Each row stores `hash` = SHA-256 over an
//! unambiguous encoding of **all** its fields ([`Raw::digest`]: a version tag, then each field
//! as absent, or present with its byte length and bytes, in a fixed order, the row number and
//! `prev_hash` included), where `prev_hash` is the previous row's `hash`. `journal_state` keeps
//! the chain's two ends: the anchor (`first_id`, `first_prev_hash`: row 1 and 64 zeros until a
//! purge) and the head (`head_id`, `head_hash`, moved by every append). [`verify`] walks the
//! rows in order and reports the first one that fails:
//! - a modified field, or an edited hash: the recomputed hash differs;
//! - a deleted row: its number is missing (or the next row's `prev_hash` does not follow);
//! - reordered (renumbered) rows: the number is hashed, so the recomputed hash differs;
//! - rows cut off the end: the last row is not the recorded head.
//!
//! SQLite triggers make the table append-only by construction: no `UPDATE`, and `DELETE` only of
//! rows older than `journal_state.purge_before`, which only moves forward.
//!
//! What this does not do: someone with write access to the file, who drops the triggers and
//! recomputes every hash and the state, can forge a consistent journal. A local, keyless chain
//! cannot prevent that; what anchors it outside the PC is the head hash that `guichet-qf journal
//! verify` prints and that every export carries (last column): a DPO who notes it can later tell
//! that the journal up to that row was not rewritten.
//!
//! # Purge
//!
//! [`purge_older_than`] refuses any limit younger than [`RETENTION_MONTHS`] before `now`, refuses
//! to purge a journal that does not verify (the evidence would go with it), and deletes only a
//! *prefix* of the chain (the oldest rows up to the first row at or after the limit), so what
//! remains is still one unbroken chain. It moves the anchor to the first remaining row's
//! `prev_hash` and then appends a `purge` row whose detail repeats the anchor ([`anchor_text`]);
//! `journal_state.purge_row` points at that row, and [`verify`] checks that they agree. Moving
//! the anchor to hide deleted rows would therefore need the purge row changed, which breaks the
//! chain from there on. The caller makes a backup first (nothing is deleted without one).

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::store::Store;

/// The agent written for scheduled work (the background sync, a nightly refresh).
pub const AGENT_SYSTEM: &str = "système";
/// The agent written for the command line, which has no desk session.
pub const AGENT_COMMAND_LINE: &str = "ligne de commande";
/// How long rows are kept at least (API Particulier FAQ: "tracées pour une durée de 36 mois").
pub const RETENTION_MONTHS: i64 = 36;
/// How many rows [`page`] returns at most.
pub const PAGE_SIZE: usize = 200;

/// The `prev_hash` of row 1 (also written by the migration).
#[cfg(test)]
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done. Stored as its snake_case id; new variants may be added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "JournalAction")]
pub enum Action {
    /// A Hubee dossier opened by an agent.
    DossierOuvert,
    /// A family's file opened by an agent.
    FamilleConsultee,
    /// A call to API Particulier's quotient familial (at the counter or a scheduled refresh).
    ConsultationQf,
    /// Data leaving the application as a file (CSV of the journal, billing export…).
    Export,
    /// A document printed or saved as PDF (attestation, family file…).
    Impression,
    /// The commune's API Particulier token saved in the vault.
    JetonEnregistre,
    /// The token declared compromised (to be revoked on the API Particulier portal).
    JetonCompromis,
    /// Old rows of the journal removed after the retention period.
    Purge,
    /// Personal data removed after its retention period (`retention::purge`): counts only.
    Elimination,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::DossierOuvert,
        Action::FamilleConsultee,
        Action::ConsultationQf,
        Action::Export,
        Action::Impression,
        Action::JetonEnregistre,
        Action::JetonCompromis,
        Action::Purge,
        Action::Elimination,
    ];

    /// The stored identifier (same as the serde name).
    pub fn id(self) -> &'static str {
        match self {
            Action::DossierOuvert => "dossier_ouvert",
            Action::FamilleConsultee => "famille_consultee",
            Action::ConsultationQf => "consultation_qf",
            Action::Export => "export",
            Action::Impression => "impression",
            Action::JetonEnregistre => "jeton_enregistre",
            Action::JetonCompromis => "jeton_compromis",
            Action::Purge => "purge",
            Action::Elimination => "elimination",
        }
    }

    pub fn from_id(id: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.id() == id)
    }

    /// The French words the DPO reads in the export and the CLI.
    pub fn label(self) -> &'static str {
        match self {
            Action::DossierOuvert => "Dossier ouvert",
            Action::FamilleConsultee => "Dossier famille consulté",
            Action::ConsultationQf => "Consultation du QF (API Particulier)",
            Action::Export => "Export",
            Action::Impression => "Impression",
            Action::JetonEnregistre => "Jeton API Particulier enregistré",
            Action::JetonCompromis => "Jeton API Particulier déclaré compromis",
            Action::Purge => "Purge des lignes de plus de 36 mois",
            Action::Elimination => "Élimination des données arrivées au terme de leur conservation",
        }
    }
}

/// One access to record. Only references and technical identifiers: no token, no payload, no
/// names or birth dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: Timestamp,
    /// The agent's display name at the time; [`AGENT_SYSTEM`] or [`AGENT_COMMAND_LINE`] otherwise.
    pub agent: String,
    pub commune_id: Option<i64>,
    pub action: Action,
    /// Why (the démarche: "inscription cantine", "révision tarif"…).
    pub motif: Option<String>,
    /// The family or dossier reference, never an identity.
    pub reference: Option<String>,
    /// The API endpoint called (path only, never a query string: it holds identities).
    pub endpoint: Option<String>,
    /// The `recipient` SIRET sent to API Particulier.
    pub recipient: Option<String>,
    pub http_status: Option<u16>,
    /// API Particulier's error code (`37001`…).
    pub api_code: Option<String>,
    /// The `X-Request-Id` of the answer, to quote to the API's support.
    pub request_id: Option<String>,
    /// A short complement, e.g. "12 lignes" for an export.
    pub detail: Option<String>,
}

impl Entry {
    /// An entry with only the mandatory parts; set the others with struct update syntax.
    pub fn new(at: Timestamp, agent: impl Into<String>, action: Action) -> Entry {
        Entry {
            at,
            agent: agent.into(),
            commune_id: None,
            action,
            motif: None,
            reference: None,
            endpoint: None,
            recipient: None,
            http_status: None,
            api_code: None,
            request_id: None,
            detail: None,
        }
    }
}

/// Longest accepted value of each text field, in characters.
const LIMITS: [(&str, usize); 8] = [
    ("agent", 100),
    ("motif", 200),
    ("référence", 64),
    ("point d'accès", 200),
    ("destinataire", 20),
    ("code d'erreur", 32),
    ("identifiant de requête", 100),
    ("détail", 300),
];

/// Checks an entry before it is written: bounded lengths, one line each, an agent.
pub fn check(entry: &Entry) -> Result<()> {
    if entry.agent.trim().is_empty() {
        return Err(Error::validation(
            "Journal des accès : le nom de l'agent manque.",
        ));
    }
    let values = [
        Some(entry.agent.as_str()),
        entry.motif.as_deref(),
        entry.reference.as_deref(),
        entry.endpoint.as_deref(),
        entry.recipient.as_deref(),
        entry.api_code.as_deref(),
        entry.request_id.as_deref(),
        entry.detail.as_deref(),
    ];
    if entry
        .endpoint
        .as_deref()
        .is_some_and(|e| e.contains(['?', '#']))
    {
        return Err(Error::validation(
            "Journal des accès : le point d'accès s'écrit sans paramètres (ils contiennent \
             l'identité des personnes).",
        ));
    }
    for ((name, limit), value) in LIMITS.iter().zip(values) {
        let Some(value) = value else { continue };
        if value.chars().count() > *limit {
            return Err(Error::validation(format!(
                "Journal des accès : le champ « {name} » dépasse {limit} caractères."
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::validation(format!(
                "Journal des accès : le champ « {name} » contient un caractère de contrôle."
            )));
        }
    }
    Ok(())
}

/// The stored form of a time: UTC, milliseconds, one fixed width, so that text order is time
/// order (`…00Z` and `…00.5Z` would not sort).
fn format_at(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A row exactly as stored, for hashing: what is hashed is what is on disk.
#[derive(Debug, Clone)]
struct Raw {
    id: i64,
    at: String,
    agent: String,
    commune_id: Option<i64>,
    commune_siret: Option<String>,
    commune_name: Option<String>,
    action: String,
    motif: Option<String>,
    reference: Option<String>,
    endpoint: Option<String>,
    recipient: Option<String>,
    http_status: Option<i64>,
    api_code: Option<String>,
    request_id: Option<String>,
    detail: Option<String>,
    prev_hash: String,
    hash: String,
}

const COLUMNS: &str = "id, at, agent, commune_id, commune_siret, commune_name, action, motif, \
                       reference, endpoint, recipient, http_status, api_code, request_id, \
                       detail, prev_hash, hash";

impl Raw {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            id: row.get(0)?,
            at: row.get(1)?,
            agent: row.get(2)?,
            commune_id: row.get(3)?,
            commune_siret: row.get(4)?,
            commune_name: row.get(5)?,
            action: row.get(6)?,
            motif: row.get(7)?,
            reference: row.get(8)?,
            endpoint: row.get(9)?,
            recipient: row.get(10)?,
            http_status: row.get(11)?,
            api_code: row.get(12)?,
            request_id: row.get(13)?,
            detail: row.get(14)?,
            prev_hash: row.get(15)?,
            hash: row.get(16)?,
        })
    }

    /// SHA-256 (hex) over a version tag and every field but `hash`, each one either absent
    /// (`0x00`) or present (`0x01`, its length as 8 bytes big-endian, its UTF-8 bytes): no two
    /// different rows encode the same way.
    fn digest(&self) -> String {
        fn field(hasher: &mut Sha256, value: Option<&str>) {
            match value {
                None => hasher.update([0u8]),
                Some(value) => {
                    hasher.update([1u8]);
                    hasher.update((value.len() as u64).to_be_bytes());
                    hasher.update(value.as_bytes());
                }
            }
        }
        let number = |value: Option<i64>| value.map(|n| n.to_string());
        let mut hasher = Sha256::new();
        hasher.update(b"guichet-qf/journal/v1\0");
        field(&mut hasher, Some(&self.id.to_string()));
        field(&mut hasher, Some(&self.at));
        field(&mut hasher, Some(&self.agent));
        field(&mut hasher, number(self.commune_id).as_deref());
        field(&mut hasher, self.commune_siret.as_deref());
        field(&mut hasher, self.commune_name.as_deref());
        field(&mut hasher, Some(&self.action));
        field(&mut hasher, self.motif.as_deref());
        field(&mut hasher, self.reference.as_deref());
        field(&mut hasher, self.endpoint.as_deref());
        field(&mut hasher, self.recipient.as_deref());
        field(&mut hasher, number(self.http_status).as_deref());
        field(&mut hasher, self.api_code.as_deref());
        field(&mut hasher, self.request_id.as_deref());
        field(&mut hasher, self.detail.as_deref());
        field(&mut hasher, Some(&self.prev_hash));
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    fn into_row(self) -> Result<Row> {
        let broken = || {
            Error::new(
                Code::Storage,
                format!(
                    "Journal des accès : la ligne {} est illisible (vérifiez l'intégrité).",
                    self.id
                ),
            )
        };
        let at: Timestamp = self.at.parse().map_err(|_| broken())?;
        let action = Action::from_id(&self.action).ok_or_else(broken)?;
        let http_status = match self.http_status {
            Some(status) => Some(u16::try_from(status).map_err(|_| broken())?),
            None => None,
        };
        Ok(Row {
            id: self.id,
            at,
            agent: self.agent,
            commune_id: self.commune_id,
            commune_siret: self.commune_siret,
            commune_name: self.commune_name,
            action,
            motif: self.motif,
            reference: self.reference,
            endpoint: self.endpoint,
            recipient: self.recipient,
            http_status,
            api_code: self.api_code,
            request_id: self.request_id,
            detail: self.detail,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A journal row as shown on the Journal screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "JournalRow")]
pub struct Row {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "string")]
    pub at: Timestamp,
    pub agent: String,
    #[ts(type = "number | null")]
    pub commune_id: Option<i64>,
    pub commune_siret: Option<String>,
    pub commune_name: Option<String>,
    pub action: Action,
    pub motif: Option<String>,
    pub reference: Option<String>,
    pub endpoint: Option<String>,
    pub recipient: Option<String>,
    pub http_status: Option<u16>,
    pub api_code: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain's two ends (`journal_state`).
struct State {
    first_id: i64,
    first_prev_hash: String,
    head_id: i64,
    head_hash: String,
    purge_before: Option<String>,
    purge_row: Option<i64>,
}

fn state(conn: &Connection) -> Result<State> {
    Ok(conn.query_row(
        "SELECT first_id, first_prev_hash, head_id, head_hash, purge_before, purge_row
         FROM journal_state WHERE id = 1",
        [],
        |row| {
            Ok(State {
                first_id: row.get(0)?,
                first_prev_hash: row.get(1)?,
                head_id: row.get(2)?,
                head_hash: row.get(3)?,
                purge_before: row.get(4)?,
                purge_row: row.get(5)?,
            })
        },
    )?)
}

/// Appends `entry` in the caller's transaction and returns its row number. The commune's SIRET
/// and name are copied from `communes`.
pub fn append(tx: &Transaction<'_>, entry: &Entry) -> Result<i64> {
    check(entry)?;
    let state = state(tx)?;
    let (commune_siret, commune_name) = match entry.commune_id {
        Some(id) => {
            let found: Option<(String, String)> = tx
                .query_row(
                    "SELECT siret, name FROM communes WHERE id = ?1",
                    [id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let (siret, name) = found.ok_or_else(|| {
                Error::new(
                    Code::NotFound,
                    "Journal des accès : cette commune n'existe plus.",
                )
            })?;
            (Some(siret), Some(name))
        }
        None => (None, None),
    };
    let mut raw = Raw {
        id: state.head_id + 1,
        at: format_at(entry.at),
        agent: entry.agent.trim().to_string(),
        commune_id: entry.commune_id,
        commune_siret,
        commune_name,
        action: entry.action.id().to_string(),
        motif: entry.motif.clone(),
        reference: entry.reference.clone(),
        endpoint: entry.endpoint.clone(),
        recipient: entry.recipient.clone(),
        http_status: entry.http_status.map(i64::from),
        api_code: entry.api_code.clone(),
        request_id: entry.request_id.clone(),
        detail: entry.detail.clone(),
        prev_hash: state.head_hash,
        hash: String::new(),
    };
    raw.hash = raw.digest();
    tx.execute(
        &format!(
            "INSERT INTO journal ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ),
        params![
            raw.id,
            raw.at,
            raw.agent,
            raw.commune_id,
            raw.commune_siret,
            raw.commune_name,
            raw.action,
            raw.motif,
            raw.reference,
            raw.endpoint,
            raw.recipient,
            raw.http_status,
            raw.api_code,
            raw.request_id,
            raw.detail,
            raw.prev_hash,
            raw.hash,
        ],
    )?;
    tx.execute(
        "UPDATE journal_state SET head_id = ?1, head_hash = ?2 WHERE id = 1",
        params![raw.id, raw.hash],
    )?;
    Ok(raw.id)
}

/// Which rows to show or export. Dates are local calendar days, both included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export, rename = "JournalFilter")]
pub struct Filter {
    /// The agent's name exactly as written in the journal.
    pub agent: Option<String>,
    pub action: Option<Action>,
    #[ts(type = "number | null")]
    pub commune_id: Option<i64>,
    /// First day (`AAAA-MM-JJ`), included.
    #[ts(type = "string | null")]
    pub from: Option<Date>,
    /// Last day (`AAAA-MM-JJ`), included.
    #[ts(type = "string | null")]
    pub to: Option<Date>,
    /// Only rows before this one (the next page, going back in time).
    #[ts(type = "number | null")]
    pub before_id: Option<i64>,
}

impl Filter {
    /// The SQL condition and its parameters.
    fn clause(&self, tz: &TimeZone) -> Result<(String, Vec<Value>)> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(Error::validation(
                    "La date de début est après la date de fin.",
                ));
            }
        }
        let day_start = |date: Date| -> Result<String> {
            date.to_zoned(tz.clone())
                .map(|zoned| format_at(zoned.timestamp()))
                .map_err(|_| Error::validation("Cette date n'est pas valable."))
        };
        let mut conditions = vec!["1 = 1".to_string()];
        let mut values = Vec::new();
        if let Some(agent) = self.agent.as_deref().filter(|a| !a.trim().is_empty()) {
            conditions.push("agent = ?".into());
            values.push(Value::Text(agent.trim().to_string()));
        }
        if let Some(action) = self.action {
            conditions.push("action = ?".into());
            values.push(Value::Text(action.id().into()));
        }
        if let Some(commune_id) = self.commune_id {
            conditions.push("commune_id = ?".into());
            values.push(Value::Integer(commune_id));
        }
        if let Some(from) = self.from {
            conditions.push("at >= ?".into());
            values.push(Value::Text(day_start(from)?));
        }
        if let Some(to) = self.to {
            let next = to
                .tomorrow()
                .map_err(|_| Error::validation("Cette date n'est pas valable."))?;
            conditions.push("at < ?".into());
            values.push(Value::Text(day_start(next)?));
        }
        if let Some(before) = self.before_id {
            conditions.push("id < ?".into());
            values.push(Value::Integer(before));
        }
        Ok((conditions.join(" AND "), values))
    }
}

/// Rows matching `filter`, newest first, at most `limit`.
pub fn list(conn: &Connection, filter: &Filter, tz: &TimeZone, limit: usize) -> Result<Vec<Row>> {
    let (condition, mut values) = filter.clause(tz)?;
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM journal WHERE {condition} ORDER BY id DESC LIMIT ?"
    ))?;
    let raws = statement
        .query_map(rusqlite::params_from_iter(values), Raw::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(Raw::into_row).collect()
}

/// One screenful of the Journal screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "JournalPage")]
pub struct Page {
    /// Newest first, at most [`PAGE_SIZE`].
    pub rows: Vec<Row>,
    /// Older rows match too: ask again with `before_id` set to the last row's id.
    pub more: bool,
    /// Every agent name the journal holds, for the filter (sorted the French way).
    pub agents: Vec<String>,
}

/// The rows matching `filter` for the screen, and the agent names to filter on.
pub fn page(conn: &Connection, filter: &Filter, tz: &TimeZone) -> Result<Page> {
    let mut rows = list(conn, filter, tz, PAGE_SIZE + 1)?;
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    let mut statement = conn.prepare("SELECT DISTINCT agent FROM journal")?;
    let mut agents = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    agents.sort_by_cached_key(|name| (crate::text::fold(name), name.clone()));
    Ok(Page { rows, more, agents })
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "JournalVerification")]
pub struct Verification {
    pub intact: bool,
    /// Rows checked.
    #[ts(type = "number")]
    pub rows: u64,
    /// Number of the first row kept (1 until a purge).
    #[ts(type = "number")]
    pub first_id: i64,
    /// Number of the last row (0 when the journal is empty).
    #[ts(type = "number")]
    pub last_id: i64,
    /// Hash of the last row: note it to be able to tell later that nothing before it changed.
    pub head_hash: String,
    /// The first row that fails, when `intact` is false.
    #[ts(type = "number | null")]
    pub broken_row: Option<i64>,
    /// Why, in French.
    pub reason: Option<String>,
}

/// What a purge row's detail must repeat about the anchor.
pub fn anchor_text(first_id: i64, first_prev_hash: &str) -> String {
    format!("La chaîne reprend à la ligne {first_id}, après l'empreinte {first_prev_hash}.")
}

/// Walks the whole chain and reports the first row that fails.
pub fn verify(conn: &Connection) -> Result<Verification> {
    let state = state(conn)?;
    let mut outcome = Verification {
        intact: true,
        rows: 0,
        first_id: state.first_id,
        last_id: state.first_id - 1,
        head_hash: state.head_hash.clone(),
        broken_row: None,
        reason: None,
    };
    let broken = |mut outcome: Verification, row: i64, reason: String| {
        outcome.intact = false;
        outcome.broken_row = Some(row);
        outcome.reason = Some(reason);
        Ok(outcome)
    };
    let mut expected_id = state.first_id;
    let mut expected_prev = state.first_prev_hash.clone();
    let mut purge_row_seen = state.purge_row.is_none();
    let mut statement = conn.prepare(&format!("SELECT {COLUMNS} FROM journal ORDER BY id"))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let raw = Raw::from_row(row)?;
        if raw.id < expected_id {
            return broken(
                outcome,
                raw.id,
                format!(
                    "la ligne {} précède le début de la chaîne (ligne {expected_id}) : elle a été \
                     ajoutée après coup.",
                    raw.id
                ),
            );
        }
        if raw.id > expected_id {
            return broken(
                outcome,
                expected_id,
                format!("la ligne {expected_id} manque : elle a été supprimée."),
            );
        }
        if raw.digest() != raw.hash {
            return broken(
                outcome,
                raw.id,
                format!(
                    "le contenu de la ligne {} ne correspond plus à son empreinte : elle a été \
                     modifiée ou déplacée.",
                    raw.id
                ),
            );
        }
        if raw.prev_hash != expected_prev {
            return broken(
                outcome,
                raw.id,
                format!(
                    "la ligne {} ne suit pas la ligne précédente : une ligne a été supprimée, \
                     remplacée ou déplacée.",
                    raw.id
                ),
            );
        }
        if Some(raw.id) == state.purge_row {
            let anchor = anchor_text(state.first_id, &state.first_prev_hash);
            if raw.action != Action::Purge.id()
                || !raw.detail.as_deref().unwrap_or("").ends_with(&anchor)
            {
                return broken(
                    outcome,
                    raw.id,
                    format!(
                        "la ligne {} ne confirme pas le début de la chaîne après la dernière \
                         purge : des lignes ont été supprimées.",
                        raw.id
                    ),
                );
            }
            purge_row_seen = true;
        }
        outcome.rows += 1;
        outcome.last_id = raw.id;
        expected_id = raw.id + 1;
        expected_prev = raw.hash;
    }
    if outcome.last_id != state.head_id || expected_prev != state.head_hash {
        let missing = outcome.last_id + 1;
        return broken(
            outcome,
            missing,
            format!(
                "les dernières lignes manquent (la chaîne s'arrête à la ligne {}, la dernière \
                 inscrite est la ligne {}).",
                missing - 1,
                state.head_id
            ),
        );
    }
    if !purge_row_seen {
        let row = state.purge_row.unwrap_or(state.first_id);
        return broken(
            outcome,
            row,
            format!("la ligne {row}, qui enregistre la dernière purge, manque."),
        );
    }
    Ok(outcome)
}

/// The oldest limit a purge may use at `now`: 36 months before.
pub fn retention_limit(now: Timestamp) -> Result<Timestamp> {
    now.to_zoned(TimeZone::UTC)
        .checked_sub(RETENTION_MONTHS.months())
        .map(|zoned| zoned.timestamp())
        .map_err(|error| Error::new(Code::Internal, "Date hors limites.").with_source(error))
}

/// Refuses a purge limit younger than [`RETENTION_MONTHS`] before `now`.
pub fn check_cutoff(cutoff: Timestamp, now: Timestamp) -> Result<()> {
    let limit = retention_limit(now)?;
    if cutoff > limit {
        return Err(Error::validation(format!(
            "Le journal des accès est conservé au moins {RETENTION_MONTHS} mois : seules les \
             lignes antérieures au {} peuvent être supprimées.",
            limit.strftime("%d/%m/%Y")
        )));
    }
    Ok(())
}

/// How many rows [`purge_older_than`] would delete for `cutoff` (the dry run).
pub fn purgeable(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let first_kept: Option<i64> = conn.query_row(
        "SELECT MIN(id) FROM journal WHERE at >= ?1",
        [format_at(cutoff)],
        |row| row.get(0),
    )?;
    let count: i64 = match first_kept {
        Some(id) => conn.query_row("SELECT COUNT(*) FROM journal WHERE id < ?1", [id], |row| {
            row.get(0)
        })?,
        None => conn.query_row("SELECT COUNT(*) FROM journal", [], |row| row.get(0))?,
    };
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Deletes the oldest rows, those before `cutoff`, and records the purge as a journal row by
/// `agent`. Refuses a `cutoff` younger than 36 months before `now` and a journal that does not
/// verify. Returns the number of rows deleted. Make a backup before calling it.
pub fn purge_older_than(
    tx: &Transaction<'_>,
    cutoff: Timestamp,
    now: Timestamp,
    agent: &str,
) -> Result<usize> {
    check_cutoff(cutoff, now)?;
    let verification = verify(tx)?;
    if !verification.intact {
        return Err(Error::new(
            Code::Conflict,
            format!(
                "Le journal des accès n'est pas intact ({}) : il n'est pas purgé, pour en garder \
                 la trace.",
                verification.reason.unwrap_or_default()
            ),
        ));
    }
    let state = state(tx)?;
    let cutoff_text = format_at(cutoff);
    let first_id: i64 = tx
        .query_row(
            "SELECT MIN(id) FROM journal WHERE at >= ?1",
            [&cutoff_text],
            |row| row.get::<_, Option<i64>>(0),
        )?
        .unwrap_or(state.head_id + 1);
    if first_id <= state.first_id {
        return Ok(0);
    }
    let first_prev_hash: String = tx
        .query_row(
            "SELECT prev_hash FROM journal WHERE id = ?1",
            [first_id],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or_else(|| state.head_hash.clone());
    let purge_before = match state.purge_before {
        Some(previous) if previous > cutoff_text => previous,
        _ => cutoff_text.clone(),
    };
    tx.execute(
        "UPDATE journal_state SET purge_before = ?1, first_id = ?2, first_prev_hash = ?3
         WHERE id = 1",
        params![purge_before, first_id, first_prev_hash],
    )?;
    let deleted = tx.execute("DELETE FROM journal WHERE id < ?1", [first_id])?;
    let entry = Entry {
        detail: Some(format!(
            "{deleted} ligne(s) antérieure(s) au {} supprimée(s). {}",
            cutoff.strftime("%d/%m/%Y"),
            anchor_text(first_id, &first_prev_hash)
        )),
        ..Entry::new(now, agent, Action::Purge)
    };
    let row = append(tx, &entry)?;
    tx.execute(
        "UPDATE journal_state SET purge_row = ?1 WHERE id = 1",
        [row],
    )?;
    Ok(deleted)
}

/// Column headers of the CSV export, in French.
const CSV_HEADERS: [&str; 18] = [
    "N°",
    "Date et heure (UTC)",
    "Date et heure (heure locale)",
    "Agent",
    "Commune",
    "SIRET de la commune",
    "Action",
    "Motif",
    "Référence",
    "Point d'accès",
    "Destinataire (SIRET)",
    "Statut HTTP",
    "Code d'erreur",
    "Identifiant de requête (X-Request-Id)",
    "Détail",
    "Code de l'action",
    "Empreinte précédente",
    "Empreinte",
];

/// A spreadsheet would run a cell starting with `=`, `+`, `-`, `@` (or a tab/return) as a
/// formula; an apostrophe in front keeps it text. Agent names and motifs are typed by people.
pub(crate) fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

pub(crate) fn csv_error(error: csv::Error) -> Error {
    Error::new(
        Code::Storage,
        "Le fichier d'export n'a pas pu être écrit (disque plein ou droits insuffisants ?).",
    )
    .with_source(error)
}

/// Writes the rows matching `filter` (all of them, oldest first) as CSV for a French
/// spreadsheet: UTF-8 with a byte order mark, `;` between columns, UTC and local (`tz`) times.
/// Returns the number of rows written. `filter.before_id` is honoured; paging is not.
pub fn export_csv(
    conn: &Connection,
    filter: &Filter,
    out: &mut impl Write,
    tz: &TimeZone,
) -> Result<usize> {
    let (condition, values) = filter.clause(tz)?;
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(CSV_HEADERS).map_err(csv_error)?;
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM journal WHERE {condition} ORDER BY id"
    ))?;
    let mut rows = statement.query(rusqlite::params_from_iter(values))?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let row = Raw::from_row(row)?.into_row()?;
        let text = |value: &Option<String>| cell(value.as_deref().unwrap_or(""));
        let local = row.at.to_zoned(tz.clone()).strftime("%d/%m/%Y %H:%M:%S");
        writer
            .write_record([
                row.id.to_string(),
                format_at(row.at),
                local.to_string(),
                cell(&row.agent),
                text(&row.commune_name),
                text(&row.commune_siret),
                row.action.label().to_string(),
                text(&row.motif),
                text(&row.reference),
                text(&row.endpoint),
                text(&row.recipient),
                row.http_status.map(|s| s.to_string()).unwrap_or_default(),
                text(&row.api_code),
                text(&row.request_id),
                text(&row.detail),
                row.action.id().to_string(),
                row.prev_hash.clone(),
                row.hash.clone(),
            ])
            .map_err(csv_error)?;
        count += 1;
    }
    writer.flush()?;
    Ok(count)
}

/// Where an export went, for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "JournalExport")]
pub struct Exported {
    pub path: String,
    #[ts(type = "number")]
    pub rows: u64,
}

/// Exports the rows matching `filter` to `path` and journals the export itself (action
/// [`Action::Export`] by `agent`) in the same transaction, through [`write_journaled`].
pub fn export_file(
    store: &Store,
    filter: &Filter,
    path: &Path,
    agent: &str,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<Exported> {
    let (rows, _bytes) = write_journaled(store, path, |tx, mut out| {
        let rows = export_csv(tx, filter, &mut out, tz)?;
        let entry = Entry {
            commune_id: filter.commune_id,
            detail: Some(format!("Journal des accès : {rows} ligne(s)")),
            ..Entry::new(now, agent, Action::Export)
        };
        Ok((rows, entry))
    })?;
    Ok(Exported {
        path: path.display().to_string(),
        rows: rows as u64,
    })
}

/// Writes a file that leaves the application and journals it in one transaction: `write`
/// fills the file and returns its result with the journal row, appended once the file is on
/// disk. The file appears complete or not at all: it is written beside `path` first and renamed
/// once the journal row is committed, and a failed write leaves neither file nor row. Returns
/// `write`'s result and the file's size in bytes.
pub(crate) fn write_journaled<T>(
    store: &Store,
    path: &Path,
    write: impl FnOnce(&Transaction<'_>, &mut dyn Write) -> Result<(T, Entry)>,
) -> Result<(T, u64)> {
    let file_error = |error: std::io::Error| {
        Error::new(
            Code::Storage,
            format!(
                "Le fichier « {} » n'a pas pu être écrit (dossier inexistant, disque plein ou \
                 droits insuffisants).",
                path.display()
            ),
        )
        .with_source(error)
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partiel");
    let partial = PathBuf::from(partial);
    let written = store.write(|tx| {
        let file = std::fs::File::create(&partial).map_err(file_error)?;
        let mut buffered = std::io::BufWriter::new(file);
        let (result, entry) = write(tx, &mut buffered)?;
        let file = buffered
            .into_inner()
            .map_err(|error| file_error(error.into_error()))?;
        file.sync_all().map_err(file_error)?;
        let bytes = file.metadata().map_err(file_error)?.len();
        append(tx, &entry)?;
        Ok((result, bytes))
    });
    match written {
        Ok(written) => {
            std::fs::rename(&partial, path).map_err(file_error)?;
            Ok(written)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// A file name for an export made at `now`: `journal-des-acces-2026-11-23-0946.csv`, in `dir`,
/// with a number added when that name is taken.
pub fn export_path(dir: &Path, now: Timestamp, tz: &TimeZone) -> PathBuf {
    let stamp = now
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d-%H%M")
        .to_string();
    let mut path = dir.join(format!("journal-des-acces-{stamp}.csv"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("journal-des-acces-{stamp}-{n}.csv"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Store, i64) {
        crate::fixtures::store_with_commune()
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + seconds).unwrap()
    }

    fn consultation(seconds: i64, agent: &str, commune_id: i64) -> Entry {
        Entry {
            commune_id: Some(commune_id),
            motif: Some("inscription cantine".into()),
            reference: Some(format!("FAM-{seconds}")),
            endpoint: Some("/v3/dss/quotient_familial/identite".into()),
            recipient: Some("21040107100019".into()),
            http_status: Some(200),
            request_id: Some("4e0a1b2c-0000-4000-8000-000000000000".into()),
            ..Entry::new(at(seconds), agent, Action::ConsultationQf)
        }
    }

    /// Ten rows, 1 to 10, one minute apart.
    fn filled() -> (tempfile::TempDir, Store, i64) {
        let (dir, store, commune) = setup();
        store
            .write(|tx| {
                for i in 0..10 {
                    let agent = if i % 2 == 0 { "Émilie Durand" } else { "Paul" };
                    append(tx, &consultation(i * 60, agent, commune))?;
                }
                Ok(())
            })
            .unwrap();
        (dir, store, commune)
    }

    /// Runs raw SQL as someone editing the file would, triggers dropped.
    fn tamper(store: &Store, sql: &str) {
        store
            .read(|conn| {
                conn.execute_batch(&format!(
                    "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; {sql}"
                ))?;
                Ok(())
            })
            .unwrap();
    }

    fn verified(store: &Store) -> Verification {
        store.read(verify).unwrap()
    }

    #[test]
    fn appended_rows_verify_and_list_newest_first() {
        let (_dir, store, _) = filled();
        let outcome = verified(&store);
        assert!(outcome.intact, "{outcome:?}");
        assert_eq!(
            (outcome.rows, outcome.first_id, outcome.last_id),
            (10, 1, 10)
        );
        let rows = store
            .read(|conn| list(conn, &Filter::default(), &TimeZone::UTC, 3))
            .unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![10, 9, 8]
        );
        assert_eq!(rows[0].commune_siret.as_deref(), Some("21040107100019"));
        assert_eq!(rows[0].commune_name.as_deref(), Some("Majastres"));
        assert_eq!(rows[0].at, at(540));
        assert_eq!(rows[0].hash, outcome.head_hash);
        assert_eq!(rows[0].prev_hash, rows[1].hash);
    }

    #[test]
    fn an_empty_journal_is_intact() {
        let (_dir, store, _) = setup();
        let outcome = verified(&store);
        assert!(outcome.intact);
        assert_eq!((outcome.rows, outcome.last_id), (0, 0));
        assert_eq!(outcome.head_hash, GENESIS);
    }

    #[test]
    fn filters_by_agent_action_commune_and_local_days() {
        let (_dir, store, commune) = filled();
        store
            .write(|tx| {
                append(
                    tx,
                    &Entry {
                        detail: Some("12 lignes".into()),
                        ..Entry::new(at(86_400 * 3), "Paul", Action::Export)
                    },
                )
            })
            .unwrap();
        let query = |filter: Filter| {
            store
                .read(|conn| page(conn, &filter, &TimeZone::get("Europe/Paris").unwrap()))
                .unwrap()
        };
        let by_agent = query(Filter {
            agent: Some("Paul".into()),
            ..Filter::default()
        });
        assert_eq!(by_agent.rows.len(), 6);
        assert_eq!(by_agent.agents, vec!["Émilie Durand", "Paul"]);
        let exports = query(Filter {
            action: Some(Action::Export),
            ..Filter::default()
        });
        assert_eq!(exports.rows.len(), 1);
        assert_eq!(
            query(Filter {
                commune_id: Some(commune),
                ..Filter::default()
            })
            .rows
            .len(),
            10
        );
        // 1_795_000_000 is 2026-11-18 at 11:06 UTC, 12:06 in Paris.
        let day = at(0)
            .to_zoned(TimeZone::get("Europe/Paris").unwrap())
            .date();
        let first_day = query(Filter {
            from: Some(day),
            to: Some(day),
            ..Filter::default()
        });
        assert_eq!(first_day.rows.len(), 10);
        let later = query(Filter {
            from: Some(day.tomorrow().unwrap()),
            ..Filter::default()
        });
        assert_eq!(later.rows.len(), 1);
        let paged = query(Filter {
            before_id: Some(4),
            ..Filter::default()
        });
        assert_eq!(
            paged.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [3, 2, 1]
        );
        assert!(!paged.more);
        let error = store
            .read(|conn| {
                page(
                    conn,
                    &Filter {
                        from: Some(day.tomorrow().unwrap()),
                        to: Some(day),
                        ..Filter::default()
                    },
                    &TimeZone::UTC,
                )
            })
            .unwrap_err();
        assert_eq!(error.code, Code::Validation);
    }

    #[test]
    fn a_modified_row_is_detected() {
        let (_dir, store, _) = filled();
        tamper(&store, "UPDATE journal SET motif = 'contrôle' WHERE id = 4");
        let outcome = verified(&store);
        assert!(!outcome.intact);
        assert_eq!(outcome.broken_row, Some(4));
        assert!(outcome.reason.unwrap().contains("modifiée"));
    }

    #[test]
    fn an_edited_hash_is_detected() {
        let (_dir, store, _) = filled();
        tamper(
            &store,
            "UPDATE journal SET hash = (SELECT hash FROM journal WHERE id = 2) WHERE id = 6",
        );
        assert_eq!(verified(&store).broken_row, Some(6));
    }

    #[test]
    fn a_deleted_row_is_detected() {
        let (_dir, store, _) = filled();
        tamper(&store, "DELETE FROM journal WHERE id = 3");
        let outcome = verified(&store);
        assert_eq!(outcome.broken_row, Some(3));
        assert!(outcome.reason.unwrap().contains("supprimée"));
    }

    #[test]
    fn a_deleted_and_renumbered_row_is_detected() {
        let (_dir, store, _) = filled();
        tamper(
            &store,
            "DELETE FROM journal WHERE id = 3; UPDATE journal SET id = id - 1 WHERE id > 3",
        );
        assert_eq!(verified(&store).broken_row, Some(3));
    }

    #[test]
    fn reordered_rows_are_detected() {
        let (_dir, store, _) = filled();
        tamper(
            &store,
            "UPDATE journal SET id = 100 WHERE id = 5; UPDATE journal SET id = 5 WHERE id = 6;
             UPDATE journal SET id = 6 WHERE id = 100;",
        );
        let outcome = verified(&store);
        assert_eq!(outcome.broken_row, Some(5));
        // Swapped and re-hashed in their new places: only the link to the previous row tells.
        let (_dir, store, _) = filled();
        tamper(&store, "");
        tamper_recomputed_swap(&store);
        assert_eq!(verified(&store).broken_row, Some(7));
    }

    /// Swaps rows 7 and 8 and gives each the hash it would have in its new place, keeping its
    /// old `prev_hash`: only the link to the previous row can tell.
    fn tamper_recomputed_swap(store: &Store) {
        let mut raws: Vec<Raw> = store
            .read(|conn| {
                let mut statement = conn.prepare(&format!(
                    "SELECT {COLUMNS} FROM journal WHERE id IN (7, 8) ORDER BY id"
                ))?;
                let raws = statement
                    .query_map([], Raw::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(raws)
            })
            .unwrap();
        raws[0].id = 8;
        raws[1].id = 7;
        for raw in &mut raws {
            raw.hash = raw.digest();
        }
        store
            .read(|conn| {
                conn.execute_batch("DELETE FROM journal WHERE id IN (7, 8)")?;
                for raw in &raws {
                    conn.execute(
                        &format!("INSERT INTO journal ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
                        params![raw.id, raw.at, raw.agent, raw.commune_id, raw.commune_siret, raw.commune_name, raw.action, raw.motif, raw.reference, raw.endpoint, raw.recipient, raw.http_status, raw.api_code, raw.request_id, raw.detail, raw.prev_hash, raw.hash],
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn rows_cut_off_the_end_are_detected() {
        let (_dir, store, _) = filled();
        tamper(&store, "DELETE FROM journal WHERE id >= 9");
        let outcome = verified(&store);
        assert_eq!(outcome.broken_row, Some(9));
        assert!(outcome
            .reason
            .unwrap()
            .contains("dernières lignes manquent"));
    }

    #[test]
    fn triggers_refuse_updates_and_deletes() {
        let (_dir, store, _) = filled();
        let update = store.read(|conn| {
            conn.execute("UPDATE journal SET agent = 'X' WHERE id = 1", [])?;
            Ok(())
        });
        assert!(update.is_err());
        let delete = store.read(|conn| {
            conn.execute("DELETE FROM journal WHERE id = 1", [])?;
            Ok(())
        });
        assert!(delete.is_err());
        let rewind = store.read(|conn| {
            conn.execute("UPDATE journal_state SET head_id = 2", [])?;
            Ok(())
        });
        assert!(rewind.is_err());
        assert!(verified(&store).intact);
    }

    #[test]
    fn entries_are_bounded() {
        let (_dir, store, _) = setup();
        let long = Entry {
            motif: Some("x".repeat(201)),
            ..Entry::new(at(0), "Paul", Action::DossierOuvert)
        };
        let error = store.write(|tx| append(tx, &long)).unwrap_err();
        assert_eq!(error.code, Code::Validation);
        assert!(error.message.contains("motif"));
        let multiline = Entry {
            detail: Some("a\nb".into()),
            ..Entry::new(at(0), "Paul", Action::Export)
        };
        assert!(store.write(|tx| append(tx, &multiline)).is_err());
        let with_identity = Entry {
            endpoint: Some("/v3/dss/quotient_familial/identite?nomNaissance=MARTIN".into()),
            ..Entry::new(at(0), "Paul", Action::ConsultationQf)
        };
        assert!(store.write(|tx| append(tx, &with_identity)).is_err());
        let nobody = Entry::new(at(0), "  ", Action::Export);
        assert!(store.write(|tx| append(tx, &nobody)).is_err());
        assert_eq!(verified(&store).rows, 0);
    }

    #[test]
    fn an_action_and_its_row_roll_back_together() {
        let (_dir, store, commune) = setup();
        let result: Result<()> = store.write(|tx| {
            append(tx, &consultation(0, "Paul", commune))?;
            Err(Error::validation("the action failed"))
        });
        assert!(result.is_err());
        assert_eq!(verified(&store).rows, 0);
        store
            .write(|tx| append(tx, &consultation(0, "Paul", commune)))
            .unwrap();
        assert_eq!(verified(&store).last_id, 1);
    }

    #[test]
    fn purge_keeps_36_months_and_the_chain_verifiable() {
        let (_dir, store, commune) = setup();
        let year = 365 * 86_400;
        store
            .write(|tx| {
                for i in 0..6 {
                    // Rows 1..=3 four years ago, rows 4..=6 one year ago.
                    let age = if i < 3 { 4 * year } else { year };
                    append(tx, &consultation(i - age, "Paul", commune))?;
                }
                Ok(())
            })
            .unwrap();
        let now = at(0);
        let too_young = now - jiff::SignedDuration::from_hours(24 * 365 * 2);
        let error = store
            .write(|tx| purge_older_than(tx, too_young, now, AGENT_SYSTEM))
            .unwrap_err();
        assert_eq!(error.code, Code::Validation);
        assert!(error.message.contains("36 mois"), "{}", error.message);

        let cutoff = retention_limit(now).unwrap();
        assert_eq!(store.read(|conn| purgeable(conn, cutoff)).unwrap(), 3);
        let deleted = store
            .write(|tx| purge_older_than(tx, cutoff, now, AGENT_SYSTEM))
            .unwrap();
        assert_eq!(deleted, 3);
        let outcome = verified(&store);
        assert!(outcome.intact, "{outcome:?}");
        assert_eq!((outcome.first_id, outcome.last_id, outcome.rows), (4, 7, 4));
        let purge = store
            .read(|conn| list(conn, &Filter::default(), &TimeZone::UTC, 1))
            .unwrap();
        assert_eq!(purge[0].action, Action::Purge);
        assert!(purge[0]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("3 ligne(s)"));
        // Nothing left to purge: nothing happens, no row is added.
        assert_eq!(
            store
                .write(|tx| purge_older_than(tx, cutoff, now, AGENT_SYSTEM))
                .unwrap(),
            0
        );
        assert_eq!(verified(&store).last_id, 7);

        // Moving the anchor to hide a deleted row is seen: the purge row disagrees.
        let (row_4_hash,): (String,) = store
            .read(|conn| {
                Ok(
                    conn.query_row("SELECT hash FROM journal WHERE id = 4", [], |r| {
                        Ok((r.get(0)?,))
                    })?,
                )
            })
            .unwrap();
        tamper(
            &store,
            &format!(
                "DELETE FROM journal WHERE id = 4;
                 UPDATE journal_state SET first_id = 5, first_prev_hash = '{row_4_hash}'"
            ),
        );
        let outcome = verified(&store);
        assert!(!outcome.intact);
        assert_eq!(outcome.broken_row, Some(7));
        // And a broken journal is not purged.
        let later = now + jiff::SignedDuration::from_hours(24 * 365 * 5);
        let error = store
            .write(|tx| purge_older_than(tx, retention_limit(later).unwrap(), later, "Paul"))
            .unwrap_err();
        assert_eq!(error.code, Code::Conflict);
    }

    #[test]
    fn export_is_a_french_spreadsheet_csv() {
        let (_dir, store, commune) = filled();
        store
            .write(|tx| {
                append(
                    tx,
                    &Entry {
                        motif: Some("=HYPERLINK(\"x\")".into()),
                        ..consultation(600, "Paul; \"le second\"", commune)
                    },
                )
            })
            .unwrap();
        let mut out = Vec::new();
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let rows = store
            .read(|conn| export_csv(conn, &Filter::default(), &mut out, &tz))
            .unwrap();
        assert_eq!(rows, 11);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("\u{feff}N°;Date et heure (UTC);Date et heure (heure locale);Agent;")
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 12);
        assert!(lines[1].starts_with("1;2026-11-18T"), "{}", lines[1]);
        assert!(lines[1].contains(";Consultation du QF (API Particulier);"));
        assert!(
            lines[11].contains("\"Paul; \"\"le second\"\"\""),
            "{}",
            lines[11]
        );
        assert!(
            lines[11].contains(";\"'=HYPERLINK(\"\"x\"\")\";"),
            "{}",
            lines[11]
        );
    }

    #[test]
    fn export_file_journals_the_export() {
        let (dir, store, commune) = filled();
        let path = dir.path().join("journal.csv");
        let exported = export_file(
            &store,
            &Filter {
                commune_id: Some(commune),
                ..Filter::default()
            },
            &path,
            AGENT_COMMAND_LINE,
            &TimeZone::UTC,
            at(1000),
        )
        .unwrap();
        assert_eq!(exported.rows, 10);
        assert!(std::fs::read(&path).unwrap().starts_with(b"\xef\xbb\xbf"));
        assert!(!dir.path().join("journal.csv.partiel").exists());
        let last = store
            .read(|conn| list(conn, &Filter::default(), &TimeZone::UTC, 1))
            .unwrap();
        assert_eq!(last[0].action, Action::Export);
        assert_eq!(last[0].agent, AGENT_COMMAND_LINE);
        assert_eq!(
            last[0].detail.as_deref(),
            Some("Journal des accès : 10 ligne(s)")
        );
        assert!(verified(&store).intact);

        let error = export_file(
            &store,
            &Filter::default(),
            &dir.path().join("absent").join("journal.csv"),
            "Paul",
            &TimeZone::UTC,
            at(2000),
        )
        .unwrap_err();
        assert_eq!(error.code, Code::Storage);
        assert_eq!(
            verified(&store).last_id,
            11,
            "a failed export is not journaled"
        );
        let named = export_path(dir.path(), at(0), &TimeZone::UTC);
        assert!(
            named.ends_with("journal-des-acces-2026-11-18-1106.csv"),
            "{named:?}"
        );
    }

    #[test]
    fn every_action_has_an_id_and_a_label() {
        for action in Action::ALL {
            assert_eq!(Action::from_id(action.id()), Some(action));
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                serde_json::json!(action.id())
            );
            assert!(!action.label().is_empty());
        }
    }
}
