//! The family file as the Familles screen, the counter card and the CLI show it, and the
//! agent's actions on it, each one domain call so that the Tauri commands stay thin.
//!
//! Why a module of its own: a family as stored holds ids (its dossiers, the source of each QF)
//! that mean nothing to an agent. The views here join them with the dossiers' references and
//! dates and put each source in French words once, so that the window and the command line
//! say the same thing. Opening a family to read it is an access in the sense of the journal
//! (R2): [`open`] reads it and journals `FamilleConsultee` in one transaction, and the changes
//! an agent makes from the open family give back the updated view without a second journal
//! row. Nothing here reads the clock: `today` and `now` come from the caller.

use jiff::civil::Date;
use jiff::Timestamp;
use rand::RngCore;
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::reconcile::{self, Candidate, Outcome};
use super::search::{summary, FamilySummary};
use super::{
    get, merge, record_paper, set_enrolment_end, set_notes, set_opt_out, Channel, CounterRecord,
    EnrolmentEnd, Member, OptOut, PaperAttestation, QfEntry, Source,
};
use crate::dossiers::{self, Statut};
use crate::error::{Error, Result};
use crate::journal;

/// A row of the QF history with its source in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct QfRow {
    #[ts(type = "number")]
    pub id: i64,
    /// `None`: "ressources non connues".
    pub valeur: Option<u32>,
    pub annee: i32,
    pub mois: i32,
    /// `CNAF` or `MSA`.
    pub fournisseur: String,
    pub source: Source,
    /// "Dossier Hubee", "Guichet", "Attestation papier (attestation de paiement)" or
    /// "Actualisation".
    pub source_label: String,
    #[ts(type = "string")]
    pub recorded_at: Timestamp,
    pub agent: String,
}

/// The French words for where a QF came from.
pub fn source_label(source: &Source) -> String {
    match source {
        Source::DossierHubee { .. } => "Dossier Hubee".to_string(),
        Source::Guichet => "Guichet".to_string(),
        Source::AttestationPapier { document } => {
            format!("Attestation papier ({})", document.label())
        }
        Source::Actualisation => Source::Actualisation.label().to_string(),
    }
}

impl From<QfEntry> for QfRow {
    fn from(entry: QfEntry) -> QfRow {
        QfRow {
            id: entry.id,
            valeur: entry.valeur,
            annee: entry.annee,
            mois: entry.mois,
            fournisseur: entry.fournisseur,
            source_label: source_label(&entry.source),
            source: entry.source,
            recorded_at: entry.recorded_at,
            agent: entry.agent,
        }
    }
}

/// A dossier attached to the family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LinkedDossier {
    #[ts(type = "number")]
    pub id: i64,
    /// The 13-character reference the family was given.
    pub reference: Option<String>,
    #[ts(type = "string")]
    pub received_at: Timestamp,
    pub statut: Statut,
    /// How it was attached, in words.
    pub how: String,
}

/// A family as the Familles screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FamilyView {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub commune_id: i64,
    pub external_id: String,
    #[ts(type = "string")]
    pub created_at: Timestamp,
    pub created_by: String,
    pub notes: String,
    pub opt_out: Option<OptOut>,
    /// The end of the family's enrolment, from which the retention limits count.
    pub enrolment_end: Option<EnrolmentEnd>,
    /// When the purge cleared the pivot identity: the family is no longer refreshed.
    #[ts(type = "string | null")]
    pub identity_cleared_at: Option<Timestamp>,
    /// Allocataires first, then children; one of them is the pivot identity.
    pub members: Vec<Member>,
    /// Newest month first.
    pub history: Vec<QfRow>,
    pub dossiers: Vec<LinkedDossier>,
}

fn how_label(how: &str) -> &'static str {
    match how {
        "external_id" => "par le code de la famille (QR code personnel)",
        "identite" => "par l'identité, automatiquement",
        "agent" => "par un agent",
        _ => "à la création de la famille",
    }
}

/// The family's view, without journaling (see [`open`]).
pub fn view(conn: &Connection, family_id: i64) -> Result<FamilyView> {
    let family = get(conn, family_id)?;
    let mut statement = conn.prepare_cached(
        "SELECT fd.dossier_id, fd.how FROM family_dossiers fd WHERE fd.family_id = ?1
         ORDER BY fd.attached_at, fd.dossier_id",
    )?;
    let links = statement
        .query_map([family_id], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut linked = Vec::with_capacity(links.len());
    for (id, how) in links {
        let dossier = dossiers::get(conn, id)?;
        linked.push(LinkedDossier {
            id,
            reference: dossier.reference,
            received_at: dossier.received_at,
            statut: dossier.statut,
            how: how_label(&how).to_string(),
        });
    }
    // Newest first, as in the inbox.
    linked.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
    Ok(FamilyView {
        id: family.id,
        commune_id: family.commune_id,
        external_id: family.external_id,
        created_at: family.created_at,
        created_by: family.created_by,
        notes: family.notes,
        opt_out: family.opt_out,
        enrolment_end: family.enrolment_end,
        identity_cleared_at: family.identity_cleared_at,
        members: family.members,
        history: family.history.into_iter().map(QfRow::from).collect(),
        dossiers: linked,
    })
}

/// Opens a family for an agent: reads it and journals the access (`FamilleConsultee`, with the
/// family's code as the reference, never a name) in the caller's transaction.
pub fn open(
    tx: &Transaction<'_>,
    family_id: i64,
    agent: &str,
    now: Timestamp,
) -> Result<FamilyView> {
    let family = view(tx, family_id)?;
    let mut entry = journal::Entry::new(now, agent, journal::Action::FamilleConsultee);
    entry.commune_id = Some(family.commune_id);
    entry.reference = Some(format!("famille {}", family.external_id));
    entry.motif = Some("consultation du dossier famille".into());
    journal::append(tx, &entry)?;
    Ok(family)
}

/// A change an agent makes from an open family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum FamilyChange {
    /// Replaces the contact notes.
    Notes { notes: String },
    /// The family asked to stop the scheduled refresh: the day (`AAAA-MM-JJ`) and how.
    OptOut {
        requested_on: Option<String>,
        channel: Option<Channel>,
    },
    /// The family asked to resume the scheduled refresh.
    Resume,
    /// "Fin d'inscription": the day (`AAAA-MM-JJ`) the family's enrolment ended.
    EnrolmentEnd { ended_on: Option<String> },
    /// The end of enrolment cleared (entered by mistake, or the family enrols again).
    EnrolmentResume,
    /// A QF typed from a paper attestation.
    Paper { paper: PaperAttestation },
    /// "Fusionner avec…": the other family joins this one, which remains.
    MergeWith {
        #[ts(type = "number")]
        absorbed: i64,
    },
}

/// Applies an agent's change to an open family and gives the family back as it now is.
pub fn change(
    tx: &Transaction<'_>,
    family_id: i64,
    change: &FamilyChange,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<FamilyView> {
    match change {
        FamilyChange::Notes { notes } => set_notes(tx, family_id, notes)?,
        FamilyChange::OptOut {
            requested_on,
            channel,
        } => {
            let requested_on = requested_on
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    Error::validation(
                        "Date de la demande : indiquez le jour où la famille a demandé l'arrêt \
                         de l'actualisation.",
                    )
                })?;
            let on = request_day(requested_on, "Date de la demande")?;
            let channel = channel.ok_or_else(|| {
                Error::validation(
                    "Moyen utilisé : choisissez comment la famille a fait sa demande (courriel, \
                     courrier, guichet ou téléphone).",
                )
            })?;
            set_opt_out(tx, family_id, Some((on, channel)), agent, today, now)?;
        }
        FamilyChange::Resume => set_opt_out(tx, family_id, None, agent, today, now)?,
        FamilyChange::EnrolmentEnd { ended_on } => {
            let ended_on = ended_on
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    Error::validation(
                        "Date de fin d'inscription : indiquez le jour où l'inscription de la \
                         famille a pris fin.",
                    )
                })?;
            let day = request_day(ended_on, "Date de fin d'inscription")?;
            set_enrolment_end(tx, family_id, Some(day), agent, today, now)?;
        }
        FamilyChange::EnrolmentResume => set_enrolment_end(tx, family_id, None, agent, today, now)?,
        FamilyChange::Paper { paper } => {
            record_paper(tx, family_id, paper, agent, today, now)?;
        }
        FamilyChange::MergeWith { absorbed } => merge(tx, family_id, *absorbed, agent, now)?,
    }
    view(tx, family_id)
}

/// A day as the date field gives it (`AAAA-MM-JJ`) or as an agent types it where the field is
/// plain text (`JJ/MM/AAAA`); `label` names the field in the messages.
fn request_day(text: &str, label: &str) -> Result<Date> {
    let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
    let numbers: Option<Vec<i32>> = parts.iter().map(|p| p.parse::<i32>().ok()).collect();
    let (year, month, day) = match (numbers.as_deref(), text.contains('/') || text.contains('.')) {
        (Some(&[year, month, day]), false) => (year, month, day),
        (Some(&[day, month, year]), true) => (year, month, day),
        _ => {
            return Err(Error::validation(format!(
                "{label} « {text} » : écrivez-la sous la forme jj/mm/aaaa."
            )))
        }
    };
    let in_range = |value: i32| i8::try_from(value).ok();
    match (i16::try_from(year).ok(), in_range(month), in_range(day)) {
        (Some(year), Some(month), Some(day)) if year >= 1900 => Date::new(year, month, day)
            .map_err(|_| {
                Error::validation(format!("{label} « {text} » : cette date n'existe pas."))
            }),
        _ => Err(Error::validation(format!(
            "{label} « {text} » : cette date n'existe pas."
        ))),
    }
}

/// A candidate family with what the agent needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CandidateView {
    pub family: FamilySummary,
    /// Out of 100.
    pub score: u32,
}

fn candidates_view(conn: &Connection, candidates: &[Candidate]) -> Result<Vec<CandidateView>> {
    candidates
        .iter()
        .map(|candidate| {
            Ok(CandidateView {
                family: summary(conn, candidate.family_id)?,
                score: candidate.score,
            })
        })
        .collect()
}

/// A dossier whose family is doubtful, waiting for an agent ("À rattacher").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PendingDossier {
    #[ts(type = "number")]
    pub dossier_id: i64,
    pub reference: Option<String>,
    #[ts(type = "string")]
    pub received_at: Timestamp,
    /// The applicant as the dossier names them: "ROUX Jeanne Stéphanie".
    pub applicant: String,
    /// Best first.
    pub candidates: Vec<CandidateView>,
}

/// The commune's dossiers waiting for an agent, oldest first, with their candidates.
pub fn pending(conn: &Connection, commune_id: i64) -> Result<Vec<PendingDossier>> {
    reconcile::pending(conn, commune_id)?
        .into_iter()
        .map(|(dossier_id, candidates)| {
            let dossier = dossiers::get(conn, dossier_id)?;
            let applicant = [dossier.nom_naissance, dossier.prenoms]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            Ok(PendingDossier {
                dossier_id,
                reference: dossier.reference,
                received_at: dossier.received_at,
                applicant,
                candidates: candidates_view(conn, &candidates)?,
            })
        })
        .collect()
}

/// The agent's choice for a waiting dossier: "Rattacher à…" a family (`Some`) or "Créer une
/// nouvelle famille" (`None`). Gives the family's id.
pub fn settle(
    tx: &Transaction<'_>,
    dossier_id: i64,
    family_id: Option<i64>,
    agent: &str,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<i64> {
    match family_id {
        Some(family_id) => {
            reconcile::attach_dossier(tx, dossier_id, family_id, agent, now)?;
            Ok(family_id)
        }
        None => reconcile::create_from_dossier(tx, dossier_id, agent, now, random),
    }
}

/// What "Enregistrer dans le dossier famille" did, for the counter card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CounterSaved {
    pub outcome: Outcome,
    /// The family the result went into (none while the agent must choose).
    pub family: Option<FamilySummary>,
    /// The families the agent may choose from when the match is doubtful, best first.
    pub candidates: Vec<CandidateView>,
}

/// "Enregistrer dans le dossier famille" ([`super::save_counter`]), with what the card shows
/// next: the family it went into, or the candidates to choose from.
pub fn record_counter(
    tx: &Transaction<'_>,
    record: &CounterRecord<'_>,
    agent: &str,
    today: Date,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<CounterSaved> {
    let outcome = super::save_counter(tx, record, agent, today, now, random)?;
    let (family, candidates) = match &outcome {
        Outcome::Attached { family_id } | Outcome::Created { family_id } => {
            (Some(summary(tx, *family_id)?), Vec::new())
        }
        Outcome::Pending { candidates } => (None, candidates_view(tx, candidates)?),
    };
    Ok(CounterSaved {
        outcome,
        family,
        candidates,
    })
}

/// A family in the command line's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyListing {
    pub id: i64,
    pub external_id: String,
    pub members: Vec<Member>,
    /// The newest month's QF, if any.
    pub last_qf: Option<QfRow>,
    /// Whether the family asked to stop the scheduled refresh.
    pub opt_out: bool,
    /// The day its enrolment ended, `None` while it is enrolled.
    pub enrolment_ended_on: Option<Date>,
}

/// Every family of the commune, oldest first, with its members and last QF, for the command
/// line: the list leaves the application, so it is journaled as an export (the number of
/// families, never a name) in the caller's transaction.
pub fn export(
    tx: &Transaction<'_>,
    commune_id: i64,
    agent: &str,
    now: Timestamp,
) -> Result<Vec<FamilyListing>> {
    let list = list_for_export(tx, commune_id)?;
    let mut entry = journal::Entry::new(now, agent, journal::Action::Export);
    entry.commune_id = Some(commune_id);
    entry.detail = Some(format!("Liste des familles : {} famille(s)", list.len()));
    journal::append(tx, &entry)?;
    Ok(list)
}

/// Every family of the commune, oldest first, with its members and last QF.
pub fn list_for_export(conn: &Connection, commune_id: i64) -> Result<Vec<FamilyListing>> {
    let mut statement =
        conn.prepare_cached("SELECT id FROM families WHERE commune_id = ?1 ORDER BY id")?;
    let ids = statement
        .query_map([commune_id], |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter()
        .map(|id| {
            let family = get(conn, id)?;
            Ok(FamilyListing {
                id,
                external_id: family.external_id,
                members: family.members,
                last_qf: family.history.into_iter().next().map(QfRow::from),
                opt_out: family.opt_out.is_some(),
                enrolment_ended_on: family.enrolment_end.map(|end| end.ended_on),
            })
        })
        .collect()
}
