//! The commune's RGPD documents (issue 8, users-and-peers §3.2 R8–R10): the entry of its
//! register of processing activities (art. 30), the information notice for families
//! (art. 13–14 and API Particulier's CGU) and the "bordereau d'élimination" of each purge, each
//! as a PDF or as editable text.
//!
//! Why it is built this way:
//! - **Generated from the settings, never typed twice.** The retention periods a register or a
//!   notice states are read from [`crate::retention::Retention`], the limits the purge applies:
//!   what the commune declares is what the application does. The per-commune facts only a
//!   person knows (the mayor, the DPO, the délibération, the recipients, the addresses) are the
//!   commune's [`RgpdSettings`], stored once (migration `0010_rgpd.sql`) and checked field by
//!   field in French. The DataPass rules are checked too: a délibération and named recipients
//!   are required, and a DPO who is the mayor is flagged (DataPass wants someone else).
//! - **Incomplete settings make no document.** A register with blanks would be filed as it is;
//!   the agent is told which field is missing instead.
//! - **Pure documents** ([`documents`]): the settings, the limits, the commune and the day come
//!   in, a [`crate::documents::Document`] goes out, rendered by `documents::pdf` or
//!   `documents::text`. Writing and opening follow the attestation ([`write_document`]).
//! - **Journaled like every print.** These documents hold no personal data: the register and
//!   the notice describe the processing, the bordereau gives counts and dates only. They are
//!   journaled anyway, as one `Impression` row each (what was printed and, for a bordereau, the
//!   purge's number), because the rule of the application is that every print, export and
//!   access leaves a row; an exception would have to be explained to every auditor, a row costs
//!   nothing and names nobody.

pub mod documents;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::documents::{Document, Letterhead};
use crate::error::{Code, Error, Result};
use crate::journal;
use crate::poster::studio::{
    file_path, make_about, with_extension, written_exactly, Destination, Made, Printed, Target,
};
use crate::poster::{settings as poster_settings, Logo};
use crate::retention::{self, CommunePurge, PurgeReport};
use crate::store::Store;

/// The recipients a commune starts with (users-and-peers §3.2 R9).
pub const DEFAULT_RECIPIENTS: [&str; 2] = [
    "agents habilités de la mairie",
    "régie de recettes / trésorerie pour la facturation",
];

/// The longest text a one-line field takes.
const SHORT_MAX: usize = 200;
/// The longest postal address (several lines).
const ADDRESS_MAX: usize = 400;

/// What a commune's register entry and information notice need that only a person knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RgpdSettings {
    /// The mayor, who represents the commune as data controller.
    pub mayor_name: String,
    /// The data protection officer (DPO, "délégué à la protection des données").
    pub dpo_name: String,
    /// The DPO's e-mail; empty when only a postal address is given.
    pub dpo_email: String,
    /// The DPO's postal address; empty when only an e-mail is given.
    pub dpo_address: String,
    /// The number of the délibération setting the tariffs on the QF ("2024-031").
    pub deliberation_number: String,
    /// The day it was adopted.
    #[ts(type = "string | null")]
    pub deliberation_date: Option<Date>,
    /// The services the QF is used for ("Cantine, garderie, centre de loisirs").
    pub services: String,
    /// Who receives the data, one item each.
    pub recipients: Vec<String>,
    /// The mairie's postal address (several lines).
    pub postal_address: String,
    /// The e-mail where families send their requests (access, rectification, refusing the
    /// refresh).
    pub requests_email: String,
}

/// One field's problem, in French, named by the field's key in [`RgpdSettings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The commune's settings as the window shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RgpdView {
    pub settings: RgpdSettings,
    /// Problems of the stored (or default) settings: the documents wait until there are none.
    pub problems: Vec<FieldProblem>,
    /// What is allowed but DataPass or the DPO would question (the DPO is the mayor).
    pub warnings: Vec<String>,
    /// When an agent last saved them; `None` for the defaults.
    #[ts(type = "string | null")]
    pub saved_at: Option<Timestamp>,
    pub saved_by: Option<String>,
}

/// The check of settings being typed: every field's problem and the warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RgpdCheck {
    pub problems: Vec<FieldProblem>,
    pub warnings: Vec<String>,
}

/// The warning shown when the DPO is the mayor.
pub const DPO_IS_MAYOR: &str = "Le délégué à la protection des données ne peut pas être le \
    maire : DataPass demande une autre personne (un agent formé, le DPO mutualisé du centre de \
    gestion ou de l'intercommunalité).";

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// A plausible e-mail address: one `@`, something before, a dotted domain after, no spaces.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

/// Names compared the way people write them: case, accents and spaces forgiven.
fn same_person(a: &str, b: &str) -> bool {
    let fold = |text: &str| {
        crate::text::fold(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (a, b) = (fold(a), fold(b));
    !a.is_empty() && a == b
}

impl RgpdSettings {
    /// The settings with every text trimmed and empty recipients dropped.
    pub fn cleaned(&self) -> RgpdSettings {
        let line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let address = |text: &str| {
            text.lines()
                .map(line)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        RgpdSettings {
            mayor_name: line(&self.mayor_name),
            dpo_name: line(&self.dpo_name),
            dpo_email: self.dpo_email.trim().to_string(),
            dpo_address: address(&self.dpo_address),
            deliberation_number: line(&self.deliberation_number),
            deliberation_date: self.deliberation_date,
            services: line(&self.services),
            recipients: self
                .recipients
                .iter()
                .map(|r| line(r))
                .filter(|r| !r.is_empty())
                .collect(),
            postal_address: address(&self.postal_address),
            requests_email: self.requests_email.trim().to_string(),
        }
    }
}

/// Pushes `message` when the field is empty, a length problem when it is too long.
fn required(problems: &mut Vec<FieldProblem>, field: &str, value: &str, message: &str, max: usize) {
    if value.is_empty() {
        problems.push(problem(field, message));
    } else if value.chars().count() > max {
        problems.push(problem(
            field,
            &format!("{max} caractères au plus dans ce champ."),
        ));
    }
}

/// Every field's problem, in French, in the order of the form; `today` refuses a délibération
/// dated in the future.
pub fn problems(settings: &RgpdSettings, today: Date) -> Vec<FieldProblem> {
    let s = settings.cleaned();
    let mut problems = Vec::new();
    required(
        &mut problems,
        "mayor_name",
        &s.mayor_name,
        "Nom du maire : obligatoire, il représente la commune, responsable du traitement.",
        SHORT_MAX,
    );
    required(
        &mut problems,
        "dpo_name",
        &s.dpo_name,
        "Délégué à la protection des données : indiquez son nom (DataPass le demande).",
        SHORT_MAX,
    );
    if s.dpo_email.is_empty() && s.dpo_address.is_empty() {
        problems.push(problem(
            "dpo_email",
            "Contact du délégué : indiquez son e-mail ou son adresse postale (ou les deux), que \
             les familles puissent le joindre.",
        ));
    } else if !s.dpo_email.is_empty() && !is_email(&s.dpo_email) {
        problems.push(problem(
            "dpo_email",
            "E-mail du délégué : l'adresse doit avoir la forme nom@domaine.fr.",
        ));
    }
    if s.dpo_address.chars().count() > ADDRESS_MAX {
        problems.push(problem(
            "dpo_address",
            &format!("Adresse du délégué : {ADDRESS_MAX} caractères au plus."),
        ));
    }
    required(
        &mut problems,
        "deliberation_number",
        &s.deliberation_number,
        "Délibération : indiquez son numéro ; DataPass exige la délibération qui fixe les \
         tarifs selon le quotient familial.",
        SHORT_MAX,
    );
    match s.deliberation_date {
        None => problems.push(problem(
            "deliberation_date",
            "Date de la délibération : obligatoire.",
        )),
        Some(day) if day > today => problems.push(problem(
            "deliberation_date",
            "Date de la délibération : elle ne peut pas être dans le futur.",
        )),
        Some(_) => {}
    }
    required(
        &mut problems,
        "services",
        &s.services,
        "Services concernés : indiquez au moins un service (cantine, garderie…).",
        SHORT_MAX,
    );
    if s.recipients.is_empty() {
        problems.push(problem(
            "recipients",
            "Destinataires : nommez au moins un destinataire des données (DataPass le demande).",
        ));
    } else if s.recipients.iter().any(|r| r.chars().count() > SHORT_MAX) {
        problems.push(problem(
            "recipients",
            &format!("Destinataires : {SHORT_MAX} caractères au plus par destinataire."),
        ));
    }
    required(
        &mut problems,
        "postal_address",
        &s.postal_address,
        "Adresse de la mairie : obligatoire, les familles peuvent y écrire.",
        ADDRESS_MAX,
    );
    if s.requests_email.is_empty() {
        problems.push(problem(
            "requests_email",
            "E-mail pour les demandes des familles : obligatoire (accès, rectification, refus \
             de l'actualisation).",
        ));
    } else if !is_email(&s.requests_email) {
        problems.push(problem(
            "requests_email",
            "E-mail pour les demandes : l'adresse doit avoir la forme nom@domaine.fr.",
        ));
    }
    problems
}

/// What is allowed but questioned: the DPO is the mayor.
pub fn warnings(settings: &RgpdSettings) -> Vec<String> {
    let s = settings.cleaned();
    if same_person(&s.dpo_name, &s.mayor_name) {
        vec![DPO_IS_MAYOR.to_string()]
    } else {
        Vec::new()
    }
}

/// Both at once, for the form being typed.
pub fn check(settings: &RgpdSettings, today: Date) -> RgpdCheck {
    RgpdCheck {
        problems: problems(settings, today),
        warnings: warnings(settings),
    }
}

/// Refuses settings with a problem, naming every one.
pub fn validate(settings: &RgpdSettings, today: Date) -> Result<()> {
    let problems = problems(settings, today);
    if problems.is_empty() {
        Ok(())
    } else {
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        Err(Error::validation(messages.join(" ")))
    }
}

/// The defaults of a commune that never saved its settings: the poster's services and e-mail,
/// the usual recipients, nothing else.
fn defaults(conn: &Connection, commune_id: i64) -> Result<RgpdSettings> {
    let poster = poster_settings::get(conn, commune_id)?;
    Ok(RgpdSettings {
        mayor_name: String::new(),
        dpo_name: String::new(),
        dpo_email: String::new(),
        dpo_address: String::new(),
        deliberation_number: String::new(),
        deliberation_date: None,
        services: poster.services,
        recipients: DEFAULT_RECIPIENTS.map(str::to_string).to_vec(),
        postal_address: String::new(),
        requests_email: poster.contact_email.unwrap_or_default(),
    })
}

type Stored = (RgpdSettings, Option<Timestamp>, Option<String>);

fn stored(conn: &Connection, commune_id: i64) -> Result<Stored> {
    crate::communes::get(conn, commune_id)?;
    let row = conn
        .query_row(
            "SELECT mayor_name, dpo_name, dpo_email, dpo_address, deliberation_number,
                    deliberation_date, services, recipients, postal_address, requests_email,
                    updated_at, updated_by
             FROM rgpd_settings WHERE commune_id = ?1",
            [commune_id],
            |row| {
                let date: Option<String> = row.get(5)?;
                let recipients: String = row.get(7)?;
                let at: String = row.get(10)?;
                Ok((
                    RgpdSettings {
                        mayor_name: row.get(0)?,
                        dpo_name: row.get(1)?,
                        dpo_email: row.get(2)?,
                        dpo_address: row.get(3)?,
                        deliberation_number: row.get(4)?,
                        deliberation_date: date.and_then(|d| d.parse().ok()),
                        services: row.get(6)?,
                        recipients: recipients.lines().map(str::to_string).collect(),
                        postal_address: row.get(8)?,
                        requests_email: row.get(9)?,
                    },
                    at.parse().ok(),
                    Some(row.get::<_, String>(11)?),
                ))
            },
        )
        .optional()?;
    match row {
        Some(row) => Ok(row),
        None => Ok((defaults(conn, commune_id)?, None, None)),
    }
}

/// The commune's settings, the defaults when it never saved any.
pub fn get(conn: &Connection, commune_id: i64) -> Result<RgpdSettings> {
    Ok(stored(conn, commune_id)?.0)
}

/// The commune's settings with their problems and warnings, as the window shows them.
pub fn view(conn: &Connection, commune_id: i64, today: Date) -> Result<RgpdView> {
    let (settings, saved_at, saved_by) = stored(conn, commune_id)?;
    Ok(RgpdView {
        problems: problems(&settings, today),
        warnings: warnings(&settings),
        settings,
        saved_at,
        saved_by,
    })
}

/// Saves the commune's settings after checking every field; gives back the view as stored.
pub fn save(
    store: &Store,
    commune_id: i64,
    settings: &RgpdSettings,
    agent: &str,
    now: Timestamp,
    today: Date,
) -> Result<RgpdView> {
    validate(settings, today)?;
    let s = settings.cleaned();
    store.write(|tx| {
        crate::communes::get(tx, commune_id)?;
        tx.execute(
            "INSERT INTO rgpd_settings (commune_id, mayor_name, dpo_name, dpo_email, dpo_address,
                 deliberation_number, deliberation_date, services, recipients, postal_address,
                 requests_email, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (commune_id) DO UPDATE SET mayor_name = excluded.mayor_name,
                 dpo_name = excluded.dpo_name, dpo_email = excluded.dpo_email,
                 dpo_address = excluded.dpo_address,
                 deliberation_number = excluded.deliberation_number,
                 deliberation_date = excluded.deliberation_date, services = excluded.services,
                 recipients = excluded.recipients, postal_address = excluded.postal_address,
                 requests_email = excluded.requests_email, updated_at = excluded.updated_at,
                 updated_by = excluded.updated_by",
            params![
                commune_id,
                s.mayor_name,
                s.dpo_name,
                s.dpo_email,
                s.dpo_address,
                s.deliberation_number,
                s.deliberation_date.map(|d| d.to_string()),
                s.services,
                s.recipients.join("\n"),
                s.postal_address,
                s.requests_email,
                now.to_string(),
                agent,
            ],
        )?;
        view(tx, commune_id, today)
    })
}

// ---------------------------------------------------------------------------------------------
// Writing the documents.

/// A PDF to print, or editable text for a word processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RgpdFormat")]
pub enum Format {
    Pdf,
    Texte,
}

impl Format {
    /// `pdf` or `texte`, as the command line takes it.
    pub fn from_id(id: &str) -> Result<Format> {
        match id.trim() {
            "pdf" => Ok(Format::Pdf),
            "texte" | "txt" => Ok(Format::Texte),
            other => Err(Error::validation(format!(
                "Format « {other} » inconnu : choisissez pdf ou texte."
            ))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Texte => "txt",
        }
    }
}

/// Which document to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "RgpdDocument")]
pub enum Which {
    /// The register entry (art. 30) of a commune.
    Registre {
        #[ts(type = "number")]
        commune_id: i64,
    },
    /// The information notice for a commune's families.
    Notice {
        #[ts(type = "number")]
        commune_id: i64,
    },
    /// The bordereau d'élimination of a stored purge, for one commune.
    Bordereau {
        #[ts(type = "number")]
        purge_id: i64,
        #[ts(type = "number")]
        commune_id: i64,
    },
}

impl Which {
    fn commune_id(self) -> i64 {
        match self {
            Which::Registre { commune_id }
            | Which::Notice { commune_id }
            | Which::Bordereau { commune_id, .. } => commune_id,
        }
    }
}

/// The text file's bytes: UTF-8 with a byte order mark first. Without it, Notepad on older
/// Windows and Word open a file without a declared encoding as Windows-1252 and show every
/// accent as two wrong characters ("dÃ©lÃ©guÃ©"); with it, both know the file is UTF-8.
pub fn text_bytes(document: &Document) -> Vec<u8> {
    let text = crate::documents::text(document);
    let mut bytes = Vec::with_capacity(text.len() + 3);
    bytes.extend_from_slice("\u{feff}".as_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

fn letterhead(conn: &Connection, commune: &crate::communes::Commune) -> Result<Letterhead> {
    let logo = poster_settings::logo(conn, commune.id)?
        .map(|logo| Logo::from_bytes(&logo.bytes))
        .transpose()?;
    Ok(Letterhead {
        commune_name: commune.name.clone(),
        siret: commune.siret.clone(),
        logo,
    })
}

/// The settings, refused with every missing field named when a document cannot be made yet.
fn complete_settings(conn: &Connection, commune_id: i64, today: Date) -> Result<RgpdSettings> {
    let settings = get(conn, commune_id)?;
    let problems = problems(&settings, today);
    if problems.is_empty() {
        return Ok(settings.cleaned());
    }
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    Err(Error::validation(format!(
        "Complétez d'abord les paramètres RGPD de la commune (Paramètres › Protection des \
         données) : {}",
        messages.join(" ")
    )))
}

/// The stored purge `purge_id` and what it removed in `commune_id` (zeros when the purge
/// removed nothing there, the journal and exports being installation-wide).
fn stored_purge(
    conn: &Connection,
    purge_id: i64,
    commune: &crate::communes::Commune,
) -> Result<(PurgeReport, CommunePurge)> {
    let report = retention::list(conn)?
        .into_iter()
        .find(|report| report.id == Some(purge_id))
        .ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!("Aucune purge n° {purge_id} n'a été faite sur ce poste."),
            )
        })?;
    let commune_purge = report
        .communes
        .iter()
        .find(|c| c.commune_id == commune.id)
        .cloned()
        .unwrap_or_else(|| CommunePurge {
            commune_id: commune.id,
            commune_siret: commune.siret.clone(),
            commune_name: commune.name.clone(),
            families: 0,
            identities: 0,
            qf_entries: 0,
            refresh_runs: 0,
            dossiers: 0,
            dossier_files: 0,
            kept_referenced: 0,
            removed_from: None,
            removed_to: None,
            summary: String::new(),
        });
    Ok((report, commune_purge))
}

/// The document `which`, built from the store at `today`.
pub fn document(
    conn: &Connection,
    which: Which,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
    today: Date,
) -> Result<Document> {
    let commune = crate::communes::get(conn, which.commune_id())?;
    let head = letterhead(conn, &commune)?;
    let mut document = match which {
        Which::Registre { .. } => {
            let settings = complete_settings(conn, commune.id, today)?;
            let limits = retention::get(conn)?;
            let refreshes = poster_settings::get(conn, commune.id)?.refreshes;
            documents::register_entry(&head, &settings, &limits, refreshes, today)
        }
        Which::Notice { .. } => {
            let settings = complete_settings(conn, commune.id, today)?;
            let limits = retention::get(conn)?;
            let refreshes = poster_settings::get(conn, commune.id)?.refreshes;
            documents::information_notice(&head, &settings, &limits, refreshes, today)
        }
        Which::Bordereau { purge_id, .. } => {
            let (report, commune_purge) = stored_purge(conn, purge_id, &commune)?;
            let mayor = get(conn, commune.id)?.cleaned().mayor_name;
            let signer = (!mayor.is_empty()).then_some(mayor);
            documents::bordereau(&head, &report, &commune_purge, signer.as_deref(), tz)
        }
    };
    document.made_at = Some(now);
    Ok(document)
}

/// The file name's stem, before the commune's name.
fn stem(which: Which) -> String {
    match which {
        Which::Registre { .. } => "registre-rgpd".to_string(),
        Which::Notice { .. } => "note-information-familles".to_string(),
        Which::Bordereau { purge_id, .. } => format!("bordereau-elimination-purge-{purge_id}"),
    }
}

/// What the journal row says was printed, and its reference.
fn journal_what(which: Which, format: Format) -> (String, Option<String>) {
    let kind = match format {
        Format::Pdf => "PDF",
        Format::Texte => "texte",
    };
    match which {
        Which::Registre { .. } => (format!("registre des traitements ({kind})"), None),
        Which::Notice { .. } => (format!("note d'information des familles ({kind})"), None),
        Which::Bordereau { purge_id, .. } => (
            format!("bordereau d'élimination ({kind})"),
            Some(format!("purge {purge_id}")),
        ),
    }
}

/// Writes the document `which` as `format` at `destination` and journals it for `agent`
/// (`None`: the command line). `None` when the agent cancelled the choice of a file: nothing
/// written nor journaled.
#[allow(clippy::too_many_arguments)]
pub fn write_document(
    store: &Store,
    which: Which,
    format: Format,
    destination: Destination<'_>,
    agent: Option<&str>,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
    today: Date,
) -> Result<Option<Printed>> {
    let (target, document) = store.read(|conn| {
        let commune = crate::communes::get(conn, which.commune_id())?;
        Ok((Target::of(&commune), document(conn, which, tz, now, today)?))
    })?;
    let bytes = match format {
        Format::Pdf => crate::documents::pdf(&document)?,
        Format::Texte => text_bytes(&document),
    };
    let made = Made::Named {
        stem: stem(which),
        extension: format.extension(),
    };
    let path: PathBuf = match destination {
        Destination::NewFileIn(dir) => file_path(dir, &target, made),
        Destination::Chosen {
            suggested_in,
            choose,
        } => match choose(&file_path(suggested_in, &target, made)) {
            Some(path) => with_extension(path, format.extension()),
            None => return Ok(None),
        },
    };
    let (what, reference) = journal_what(which, format);
    make_about(
        Some(store),
        &target,
        agent.unwrap_or(journal::AGENT_COMMAND_LINE),
        (what, reference.as_deref()),
        &path,
        &bytes,
        now,
    )
    .map(Some)
}

/// Writes the document `which` to `path` (the command line), journaled.
#[allow(clippy::too_many_arguments)]
pub fn write_document_to(
    store: &Store,
    which: Which,
    format: Format,
    path: &Path,
    agent: Option<&str>,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
    today: Date,
) -> Result<Printed> {
    written_exactly(write_document(
        store,
        which,
        format,
        Destination::exactly(path),
        agent,
        tz,
        now,
        today,
    )?)
}
