//! The family file (issue 7): one record per foyer, fed by Hubee dossiers, counter lookups and
//! paper attestations, so that the commune keeps each family's QF up to date from its identity.
//!
//! Why a file of its own rather than the dossiers: a dossier is one submission, transient on
//! Hubee and frozen once received, while a family lives for years, sends the form again, comes
//! to the counter, moves from the CAF to the MSA. The refresh batch needs one stable pivot
//! identity per family and the history of every QF it had, whatever brought it.
//!
//! - A family carries an opaque, stable [`new_external_id`] (random bytes, never derived from
//!   the family) that the personal QR code puts in the form's link, so that the dossier it
//!   produces reconciles itself ([`reconcile`]).
//! - Members are allocataires and children with their birth date parts (any may be unknown) and,
//!   for the pivot member, the birth place the refresh sends to API Particulier.
//! - The QF history keeps every value with its month, provider and source; a value of `None` is
//!   "ressources non connues", never a QF of 0.
//! - Families are never rejected: a doubtful reconciliation waits for an agent, and nothing is
//!   deleted but the absorbed side of a [`merge`], whose members, history, dossiers and
//!   `external_id` all move to the family that remains.
//!
//! Journal: writing a family is not an access in the sense of the access journal (R2: an API
//! Particulier call, a dossier or family record viewed, an export, a print). The accesses that
//! lead here are journaled where they happen (the counter lookup, the dossier opened); every
//! row written here records its agent and time instead. Viewing a family journals
//! `FamilleConsultee` ([`view::open`], in the transaction that reads it), and the command line's
//! list journals an export ([`view::export`]), as does the billing tool's CSV ([`export`]).
//!
//! Nothing here reads the clock, the environment or a random source of its own: `now` (and
//! `today` for validation) and the random source of new `external_id`s are arguments. Every
//! function that writes takes the caller's transaction.

pub mod attestation;
pub mod export;
pub mod reconcile;
pub mod search;
pub mod view;

use jiff::civil::Date;
use jiff::Timestamp;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::particulier::counter::{CounterPerson, CounterResult};
use crate::particulier::identity::{self, IdentityInput};

pub use reconcile::{
    attach_dossier, create_from_dossier, reconcile_dossier, reconcile_pending, Candidate, Outcome,
    SYSTEM_AGENT,
};
pub use search::{search, FamilySummary};

/// The alphabet of [`new_external_id`]: Crockford's base32 in lower case (no `i`, `l`, `o`,
/// `u`), so that an agent can read a code aloud or type it from a letter without ambiguity.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new opaque identifier: 16 random bytes (128 bits) from `random`, in base32. It says
/// nothing about the family, the commune or the date; 26 characters fit the form's
/// `external_id` and Hubee's 30-character limits. The caller passes the random source (the
/// shell and the CLI pass the operating system's, tests a seeded one), so that the domain has
/// no hidden input.
pub fn new_external_id(random: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; 16];
    random.fill_bytes(&mut bytes);
    let mut text = String::with_capacity(26);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        text.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    text
}

/// Whether `text` has the shape of one of our identifiers.
pub fn looks_like_external_id(text: &str) -> bool {
    text.len() == 26 && text.bytes().all(|b| ALPHABET.contains(&b))
}

/// An allocataire or a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "FamilyRole")]
pub enum Role {
    Allocataire,
    Enfant,
}

impl Role {
    fn id(self) -> &'static str {
        match self {
            Role::Allocataire => "allocataire",
            Role::Enfant => "enfant",
        }
    }

    fn from_id(id: &str) -> Role {
        if id == "enfant" {
            Role::Enfant
        } else {
            Role::Allocataire
        }
    }
}

/// A birth date whose parts may be unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BirthParts {
    pub annee: Option<i32>,
    pub mois: Option<i32>,
    pub jour: Option<i32>,
}

impl BirthParts {
    /// Reads `YYYY-MM-DD` (the dossiers' form), with `00` or missing parts as unknown.
    pub fn from_iso(text: &str) -> BirthParts {
        let mut parts = text.trim().split('-').map(|p| p.parse::<i32>().ok());
        let known = |v: Option<Option<i32>>| v.flatten().filter(|v| *v > 0);
        let annee = known(parts.next());
        let mois = annee.and(known(parts.next()));
        let jour = mois.and(known(parts.next()));
        BirthParts { annee, mois, jour }
    }

    /// Reads the counter card's `27/12/1982`, `12/1982` or `1982`.
    pub fn from_display(text: &str) -> BirthParts {
        let mut parts: Vec<Option<i32>> = text
            .trim()
            .split('/')
            .map(|p| p.parse::<i32>().ok().filter(|v| *v > 0))
            .collect();
        parts.reverse();
        let annee = parts.first().copied().flatten();
        let mois = annee.and(parts.get(1).copied().flatten());
        let jour = mois.and(parts.get(2).copied().flatten());
        BirthParts { annee, mois, jour }
    }

    /// `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or empty: the form of [`Member::person_key`].
    pub fn iso(&self) -> String {
        match (self.annee, self.mois, self.jour) {
            (Some(y), Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
            (Some(y), Some(m), None) => format!("{y:04}-{m:02}"),
            (Some(y), _, _) => format!("{y:04}"),
            _ => String::new(),
        }
    }

    pub fn is_complete(&self) -> bool {
        self.jour.is_some()
    }

    /// No known part differs.
    pub fn compatible(&self, other: &BirthParts) -> bool {
        let agree = |a: Option<i32>, b: Option<i32>| a.is_none() || b.is_none() || a == b;
        agree(self.annee, other.annee)
            && agree(self.mois, other.mois)
            && agree(self.jour, other.jour)
    }
}

/// A member as it arrives (from a dossier, the counter or an agent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMember {
    pub role: Option<Role>,
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    /// Space-separated.
    pub prenoms: String,
    /// `F` or `M`.
    pub sexe: Option<String>,
    pub naissance: BirthParts,
    pub pays_naissance: Option<String>,
    pub commune_naissance: Option<String>,
    pub commune_naissance_nom: Option<String>,
    pub departement_naissance: Option<String>,
}

/// A stored member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "FamilyMember")]
pub struct Member {
    #[ts(type = "number")]
    pub id: i64,
    pub role: Role,
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    pub prenoms: String,
    pub sexe: Option<String>,
    pub naissance: BirthParts,
    pub pays_naissance: Option<String>,
    pub commune_naissance: Option<String>,
    pub commune_naissance_nom: Option<String>,
    pub departement_naissance: Option<String>,
    /// The identity the scheduled refresh sends.
    pub pivot: bool,
}

/// The words of a name, folded (case, accents, ligatures) and split on anything that is not a
/// letter or a digit: "Jean-Pierre" and "JEAN PIERRE" are the same first names.
pub fn words(text: &str) -> Vec<String> {
    crate::text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The folded birth name, the key of `family_members.name_key`.
pub fn name_key(nom_naissance: &str) -> String {
    words(nom_naissance).join(" ")
}

/// The folded first first name and the known birth date, the key of `family_members.person_key`.
pub fn person_key(prenoms: &str, naissance: &BirthParts) -> String {
    let first = words(prenoms).into_iter().next().unwrap_or_default();
    format!("{first}|{}", naissance.iso())
}

/// Where a QF came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export, rename = "QfSource")]
pub enum Source {
    /// A FormulaireQF dossier from Hubee (the dossier's row id).
    DossierHubee {
        #[ts(type = "number")]
        dossier_id: i64,
    },
    /// A counter lookup on API Particulier.
    Guichet,
    /// A paper attestation typed by an agent.
    AttestationPapier { document: DocumentType },
    /// The scheduled (or "Actualiser maintenant") refresh on API Particulier ([`crate::refresh`]).
    Actualisation,
}

impl Source {
    /// The words the agent reads.
    pub fn label(&self) -> &'static str {
        match self {
            Source::DossierHubee { .. } => "Dossier Hubee",
            Source::Guichet => "Guichet",
            Source::AttestationPapier { .. } => "Attestation papier",
            Source::Actualisation => "Actualisation",
        }
    }
}

/// The paper documents an agent may type a QF from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DocumentType {
    /// "Attestation de quotient familial" printed from caf.fr or msa.fr.
    AttestationQuotientFamilial,
    /// "Attestation de paiement" showing the QF.
    AttestationPaiement,
    /// "Notification de droits" showing the QF.
    NotificationDroits,
}

impl DocumentType {
    pub fn id(self) -> &'static str {
        match self {
            DocumentType::AttestationQuotientFamilial => "attestation_quotient_familial",
            DocumentType::AttestationPaiement => "attestation_paiement",
            DocumentType::NotificationDroits => "notification_droits",
        }
    }

    pub fn from_id(id: &str) -> Option<DocumentType> {
        [
            DocumentType::AttestationQuotientFamilial,
            DocumentType::AttestationPaiement,
            DocumentType::NotificationDroits,
        ]
        .into_iter()
        .find(|d| d.id() == id)
    }

    /// The words the agent reads.
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::AttestationQuotientFamilial => "attestation de quotient familial",
            DocumentType::AttestationPaiement => "attestation de paiement",
            DocumentType::NotificationDroits => "notification de droits",
        }
    }
}

/// A QF to add to a family's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQf {
    /// `None`: "ressources non connues".
    pub valeur: Option<u32>,
    pub annee: i32,
    pub mois: i32,
    /// `CNAF` or `MSA`.
    pub fournisseur: String,
    pub source: Source,
}

/// A row of the QF history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QfEntry {
    pub id: i64,
    pub valeur: Option<u32>,
    pub annee: i32,
    pub mois: i32,
    pub fournisseur: String,
    pub source: Source,
    pub recorded_at: Timestamp,
    pub agent: String,
}

/// How a family asked to stop the scheduled refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "OptOutChannel")]
pub enum Channel {
    Courriel,
    Courrier,
    Guichet,
    Telephone,
}

impl Channel {
    fn id(self) -> &'static str {
        match self {
            Channel::Courriel => "courriel",
            Channel::Courrier => "courrier",
            Channel::Guichet => "guichet",
            Channel::Telephone => "telephone",
        }
    }

    fn from_id(id: &str) -> Option<Channel> {
        [
            Channel::Courriel,
            Channel::Courrier,
            Channel::Guichet,
            Channel::Telephone,
        ]
        .into_iter()
        .find(|c| c.id() == id)
    }
}

/// A family's request to stop the scheduled refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct OptOut {
    /// The day the family asked (local date).
    #[ts(type = "string")]
    pub requested_on: Date,
    pub channel: Channel,
    #[ts(type = "string | null")]
    pub recorded_at: Option<Timestamp>,
    pub recorded_by: Option<String>,
}

/// The end of a family's enrolment in the commune's services ("fin d'inscription"), from which
/// the retention limits count (`retention`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct EnrolmentEnd {
    /// The day the enrolment ended (local date).
    #[ts(type = "string")]
    pub ended_on: Date,
    #[ts(type = "string | null")]
    pub recorded_at: Option<Timestamp>,
    pub recorded_by: Option<String>,
}

/// A family with everything it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Family {
    pub id: i64,
    pub commune_id: i64,
    pub external_id: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub notes: String,
    pub opt_out: Option<OptOut>,
    pub enrolment_end: Option<EnrolmentEnd>,
    /// When the purge cleared the pivot identity (the family can no longer be refreshed).
    pub identity_cleared_at: Option<Timestamp>,
    pub members: Vec<Member>,
    /// Newest month first.
    pub history: Vec<QfEntry>,
    /// The ids of the dossiers attached to it.
    pub dossiers: Vec<i64>,
}

impl Family {
    /// The member whose identity the refresh sends.
    pub fn pivot(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.pivot)
    }
}

fn time(text: Option<String>) -> Option<Timestamp> {
    text.and_then(|t| t.parse().ok())
}

/// Creates an empty family in `commune_id` with a fresh `external_id` drawn from `random`.
pub fn create(
    tx: &Transaction<'_>,
    commune_id: i64,
    agent: &str,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<i64> {
    // 128 random bits do not collide in practice; the loop only makes it impossible.
    let external_id = loop {
        let candidate = new_external_id(random);
        if find_by_external_id(tx, commune_id, &candidate)?.is_none() {
            break candidate;
        }
    };
    tx.execute(
        "INSERT INTO families (commune_id, external_id, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4)",
        params![commune_id, external_id, now.to_string(), agent],
    )?;
    let id = tx.last_insert_rowid();
    refresh_search(tx, id)?;
    Ok(id)
}

/// The family that has, or absorbed, this `external_id` in the commune.
pub fn find_by_external_id(
    conn: &Connection,
    commune_id: i64,
    external_id: &str,
) -> Result<Option<i64>> {
    let external_id = external_id.trim();
    Ok(conn
        .query_row(
            "SELECT id FROM families WHERE commune_id = ?1 AND external_id = ?2
             UNION ALL
             SELECT f.id FROM family_aliases a JOIN families f ON f.id = a.family_id
             WHERE f.commune_id = ?1 AND a.external_id = ?2",
            params![commune_id, external_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// The family a dossier of the commune was attached to, found by the dossier's 13-character
/// reference.
pub fn find_by_reference(
    conn: &Connection,
    commune_id: i64,
    reference: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT fd.family_id FROM dossiers d JOIN family_dossiers fd ON fd.dossier_id = d.id
             WHERE d.commune_id = ?1 AND upper(d.reference) = upper(?2)
             ORDER BY d.received_at DESC LIMIT 1",
            params![commune_id, reference.trim()],
            |row| row.get(0),
        )
        .optional()?)
}

/// Whether two members of one family are the same person: same first first name, birth dates
/// that do not contradict each other, and the same birth name (children may carry another name
/// from one source to the other, so for two children the first name and the date suffice).
/// When the birth year is unknown on either side, the birth name and every first name must
/// match instead.
pub fn same_person(a: &NewMember, b: &NewMember) -> bool {
    let first = |m: &NewMember| words(&m.prenoms).into_iter().next();
    let both_children = a.role == Some(Role::Enfant) && b.role == Some(Role::Enfant);
    let dated = a.naissance.annee.is_some() && b.naissance.annee.is_some();
    let same_name = name_key(&a.nom_naissance) == name_key(&b.nom_naissance);
    // Without a birth year on one side, the same birth name and all the same first names: within
    // one family, two people with all that in common are one person seen twice.
    let undated_match = same_name && words(&a.prenoms) == words(&b.prenoms);
    first(a).is_some()
        && first(a) == first(b)
        && a.naissance.compatible(&b.naissance)
        && if dated {
            both_children || same_name
        } else {
            undated_match
        }
}

impl Member {
    /// The member as a [`NewMember`], to compare it with an arriving one.
    pub fn as_new(&self) -> NewMember {
        NewMember {
            role: Some(self.role),
            nom_naissance: self.nom_naissance.clone(),
            nom_usage: self.nom_usage.clone(),
            prenoms: self.prenoms.clone(),
            sexe: self.sexe.clone(),
            naissance: self.naissance,
            pays_naissance: self.pays_naissance.clone(),
            commune_naissance: self.commune_naissance.clone(),
            commune_naissance_nom: self.commune_naissance_nom.clone(),
            departement_naissance: self.departement_naissance.clone(),
        }
    }
}

/// Adds `member` to the family unless the same person is already there; then fills in what the
/// stored member did not know (birth date parts, birth place, usage name, sex). With `pivot`,
/// the member becomes the family's pivot identity. Returns the member's id.
pub fn add_member(
    tx: &Transaction<'_>,
    family_id: i64,
    member: &NewMember,
    pivot: bool,
    now: Timestamp,
) -> Result<i64> {
    let role = member.role.unwrap_or(Role::Allocataire);
    let existing = members(tx, family_id)?
        .into_iter()
        .find(|m| same_person(&m.as_new(), member));
    let id =
        match existing {
            Some(found) => {
                let naissance = if member.naissance.is_complete() && !found.naissance.is_complete()
                {
                    member.naissance
                } else {
                    found.naissance
                };
                tx.execute(
                    "UPDATE family_members SET nom_usage = COALESCE(nom_usage, ?2),
                 sexe = COALESCE(sexe, ?3), annee_naissance = ?4, mois_naissance = ?5,
                 jour_naissance = ?6, pays_naissance = COALESCE(pays_naissance, ?7),
                 commune_naissance = COALESCE(commune_naissance, ?8),
                 commune_naissance_nom = COALESCE(commune_naissance_nom, ?9),
                 departement_naissance = COALESCE(departement_naissance, ?10),
                 person_key = ?11 WHERE id = ?1",
                    params![
                        found.id,
                        member.nom_usage,
                        member.sexe,
                        naissance.annee,
                        naissance.mois,
                        naissance.jour,
                        member.pays_naissance,
                        member.commune_naissance,
                        member.commune_naissance_nom,
                        member.departement_naissance,
                        person_key(&found.prenoms, &naissance),
                    ],
                )?;
                found.id
            }
            None => {
                tx.execute(
                "INSERT INTO family_members (family_id, role, nom_naissance, nom_usage, prenoms,
                 sexe, annee_naissance, mois_naissance, jour_naissance, pays_naissance,
                 commune_naissance, commune_naissance_nom, departement_naissance, name_key,
                 person_key, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    family_id,
                    role.id(),
                    member.nom_naissance.trim(),
                    member.nom_usage.as_deref().map(str::trim).filter(|s| !s.is_empty()),
                    member.prenoms.trim(),
                    member.sexe,
                    member.naissance.annee,
                    member.naissance.mois,
                    member.naissance.jour,
                    member.pays_naissance,
                    member.commune_naissance,
                    member.commune_naissance_nom,
                    member.departement_naissance,
                    name_key(&member.nom_naissance),
                    person_key(&member.prenoms, &member.naissance),
                    now.to_string(),
                ],
            )?;
                tx.last_insert_rowid()
            }
        };
    if pivot {
        tx.execute(
            "UPDATE family_members SET pivot = 0 WHERE family_id = ?1 AND id != ?2 AND pivot = 1",
            params![family_id, id],
        )?;
        tx.execute("UPDATE family_members SET pivot = 1 WHERE id = ?1", [id])?;
    }
    refresh_search(tx, family_id)?;
    Ok(id)
}

/// Adds a QF to the history; a dossier's QF is recorded once however often it is attached.
pub fn add_qf(
    tx: &Transaction<'_>,
    family_id: i64,
    qf: &NewQf,
    agent: &str,
    now: Timestamp,
) -> Result<i64> {
    let (source, dossier_id, document) = match &qf.source {
        Source::DossierHubee { dossier_id } => ("dossier_hubee", Some(*dossier_id), None),
        Source::Guichet => ("guichet", None, None),
        Source::AttestationPapier { document } => ("attestation_papier", None, Some(document.id())),
        Source::Actualisation => ("actualisation", None, None),
    };
    tx.execute(
        "INSERT INTO qf_history (family_id, valeur, annee, mois, fournisseur, source, dossier_id,
         document_type, recorded_at, agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (dossier_id) WHERE dossier_id IS NOT NULL DO NOTHING",
        params![
            family_id,
            qf.valeur.filter(|v| *v > 0),
            qf.annee,
            qf.mois,
            qf.fournisseur,
            source,
            dossier_id,
            document,
            now.to_string(),
            agent,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Rewrites the family's row of the full-text index from its members' folded names.
pub(crate) fn refresh_search(tx: &Transaction<'_>, family_id: i64) -> Result<()> {
    let names: Vec<String> = members(tx, family_id)?
        .iter()
        .map(|m| {
            words(&format!(
                "{} {} {}",
                m.nom_naissance,
                m.nom_usage.as_deref().unwrap_or(""),
                m.prenoms
            ))
            .join(" ")
        })
        .collect();
    tx.execute("DELETE FROM family_search WHERE rowid = ?1", [family_id])?;
    tx.execute(
        "INSERT INTO family_search (rowid, names) VALUES (?1, ?2)",
        params![family_id, names.join(" ")],
    )?;
    Ok(())
}

const MEMBER_COLUMNS: &str = "id, role, nom_naissance, nom_usage, prenoms, sexe, annee_naissance,
    mois_naissance, jour_naissance, pays_naissance, commune_naissance, commune_naissance_nom,
    departement_naissance, pivot";

fn member_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Member> {
    let role: String = row.get(1)?;
    Ok(Member {
        id: row.get(0)?,
        role: Role::from_id(&role),
        nom_naissance: row.get(2)?,
        nom_usage: row.get(3)?,
        prenoms: row.get(4)?,
        sexe: row.get(5)?,
        naissance: BirthParts {
            annee: row.get(6)?,
            mois: row.get(7)?,
            jour: row.get(8)?,
        },
        pays_naissance: row.get(9)?,
        commune_naissance: row.get(10)?,
        commune_naissance_nom: row.get(11)?,
        departement_naissance: row.get(12)?,
        pivot: row.get::<_, i64>(13)? == 1,
    })
}

/// A family's members: allocataires first, then children, in the order they were added.
pub fn members(conn: &Connection, family_id: i64) -> Result<Vec<Member>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {MEMBER_COLUMNS} FROM family_members WHERE family_id = ?1
         ORDER BY role = 'enfant', id"
    ))?;
    let rows = statement
        .query_map([family_id], member_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A family's QF history, newest month first.
pub fn history(conn: &Connection, family_id: i64) -> Result<Vec<QfEntry>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, valeur, annee, mois, fournisseur, source, dossier_id, document_type,
         recorded_at, agent FROM qf_history WHERE family_id = ?1
         ORDER BY annee DESC, mois DESC, recorded_at DESC, id DESC",
    )?;
    let rows = statement
        .query_map([family_id], |row| {
            let source: String = row.get(5)?;
            let dossier_id: Option<i64> = row.get(6)?;
            let document: Option<String> = row.get(7)?;
            let source = match (source.as_str(), dossier_id, document) {
                ("dossier_hubee", Some(dossier_id), _) => Source::DossierHubee { dossier_id },
                ("attestation_papier", _, Some(document)) => Source::AttestationPapier {
                    document: DocumentType::from_id(&document)
                        .unwrap_or(DocumentType::AttestationQuotientFamilial),
                },
                ("actualisation", _, _) => Source::Actualisation,
                _ => Source::Guichet,
            };
            Ok(QfEntry {
                id: row.get(0)?,
                valeur: row.get(1)?,
                annee: row.get(2)?,
                mois: row.get(3)?,
                fournisseur: row.get(4)?,
                source,
                recorded_at: time(row.get(8)?).unwrap_or(Timestamp::UNIX_EPOCH),
                agent: row.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A family with its members, history and dossiers.
pub fn get(conn: &Connection, family_id: i64) -> Result<Family> {
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        [Option<String>; 4],
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT commune_id, external_id, created_at, created_by, notes, opt_out_on,
             opt_out_channel, opt_out_recorded_at, opt_out_recorded_by, enrolment_ended_on,
             enrolment_recorded_at, enrolment_recorded_by, identity_cleared_at
             FROM families WHERE id = ?1",
            [family_id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                    row.get(8)?,
                    [row.get(9)?, row.get(10)?, row.get(11)?, row.get(12)?],
                ))
            },
        )
        .optional()?;
    let (commune_id, external_id, created_at, created_by, notes, on, channel, at, by, enrolment) =
        row.ok_or_else(|| Error::new(Code::NotFound, "Cette famille n'existe pas."))?;
    let [ended_on, ended_at, ended_by, identity_cleared_at] = enrolment;
    let enrolment_end = ended_on
        .and_then(|d| d.parse::<Date>().ok())
        .map(|ended_on| EnrolmentEnd {
            ended_on,
            recorded_at: time(ended_at),
            recorded_by: ended_by,
        });
    let opt_out = match (on.and_then(|d| d.parse::<Date>().ok()), channel) {
        (Some(requested_on), Some(channel)) => Some(OptOut {
            requested_on,
            channel: Channel::from_id(&channel).unwrap_or(Channel::Courrier),
            recorded_at: time(at),
            recorded_by: by,
        }),
        _ => None,
    };
    let mut statement = conn.prepare_cached(
        "SELECT dossier_id FROM family_dossiers WHERE family_id = ?1 ORDER BY attached_at, dossier_id",
    )?;
    let dossiers = statement
        .query_map([family_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(Family {
        id: family_id,
        commune_id,
        external_id,
        created_at: time(Some(created_at)).unwrap_or(Timestamp::UNIX_EPOCH),
        created_by,
        notes,
        opt_out,
        enrolment_end,
        identity_cleared_at: time(identity_cleared_at),
        members: members(conn, family_id)?,
        history: history(conn, family_id)?,
        dossiers,
    })
}

/// Replaces the family's contact notes.
pub fn set_notes(tx: &Transaction<'_>, family_id: i64, notes: &str) -> Result<()> {
    const MAX: usize = 4000;
    if notes.chars().count() > MAX {
        return Err(Error::validation(format!(
            "Notes : {MAX} caractères au plus."
        )));
    }
    let changed = tx.execute(
        "UPDATE families SET notes = ?2 WHERE id = ?1",
        params![family_id, notes.trim()],
    )?;
    if changed == 0 {
        return Err(Error::new(Code::NotFound, "Cette famille n'existe pas."));
    }
    Ok(())
}

/// Records the family's request to stop the scheduled refresh (`Some`), or to resume it
/// (`None`). The day of the request may not be after `today`.
pub fn set_opt_out(
    tx: &Transaction<'_>,
    family_id: i64,
    request: Option<(Date, Channel)>,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<()> {
    if let Some((on, _)) = request {
        if on > today {
            return Err(Error::validation(
                "Date de la demande d'arrêt de l'actualisation : elle ne peut pas être dans le \
                 futur.",
            ));
        }
    }
    let changed = tx.execute(
        "UPDATE families SET opt_out_on = ?2, opt_out_channel = ?3, opt_out_recorded_at = ?4,
         opt_out_recorded_by = ?5 WHERE id = ?1",
        params![
            family_id,
            request.map(|(on, _)| on.to_string()),
            request.map(|(_, channel)| channel.id()),
            request.map(|_| now.to_string()),
            request.map(|_| agent),
        ],
    )?;
    if changed == 0 {
        return Err(Error::new(Code::NotFound, "Cette famille n'existe pas."));
    }
    Ok(())
}

/// Records the end of the family's enrolment (`Some(day)`), or clears it (`None`) when it was
/// entered by mistake or the family enrols again. The day may not be after `today`: the limits
/// count from a day that has happened.
pub fn set_enrolment_end(
    tx: &Transaction<'_>,
    family_id: i64,
    ended_on: Option<Date>,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<()> {
    if ended_on.is_some_and(|day| day > today) {
        return Err(Error::validation(
            "Date de fin d'inscription : elle ne peut pas être dans le futur ; enregistrez-la le \
             jour où l'inscription prend fin.",
        ));
    }
    let changed = tx.execute(
        "UPDATE families SET enrolment_ended_on = ?2, enrolment_recorded_at = ?3,
         enrolment_recorded_by = ?4 WHERE id = ?1",
        params![
            family_id,
            ended_on.map(|day| day.to_string()),
            ended_on.map(|_| now.to_string()),
            ended_on.map(|_| agent),
        ],
    )?;
    if changed == 0 {
        return Err(Error::new(Code::NotFound, "Cette famille n'existe pas."));
    }
    Ok(())
}

/// A paper attestation as the agent types it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct PaperAttestation {
    #[ts(type = "number | null")]
    pub valeur: Option<i64>,
    pub annee: Option<i32>,
    pub mois: Option<i32>,
    /// `CNAF` or `MSA` (also "CAF", any case).
    pub fournisseur: String,
    pub document: Option<DocumentType>,
}

/// The highest QF an attestation may show: above, it is a typing error (QFs are in the hundreds
/// or a few thousand euros).
pub const MAX_QF: i64 = 99_999;

/// A field of the paper attestation form, for a message shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PaperField {
    Valeur,
    /// The month and the year.
    Periode,
    Fournisseur,
    Document,
}

/// What is wrong with one field of a paper attestation, in French.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PaperProblem {
    pub field: PaperField,
    pub message: String,
}

/// Every problem of a paper attestation, one per field at most, in the order of the form, so
/// that the window can show each message next to its field at once.
pub fn paper_problems(paper: &PaperAttestation, today: Date) -> Vec<PaperProblem> {
    let mut problems = Vec::new();
    let mut problem = |field, message: String| problems.push(PaperProblem { field, message });
    match paper.valeur {
        None => problem(
            PaperField::Valeur,
            "Quotient familial : indiquez le montant écrit sur l'attestation, en euros.".into(),
        ),
        Some(v) if !(1..=MAX_QF).contains(&v) => problem(
            PaperField::Valeur,
            format!(
                "Quotient familial « {v} » : le montant doit être compris entre 1 et {MAX_QF} \
                 euros."
            ),
        ),
        Some(_) => {}
    }
    match (paper.annee, paper.mois) {
        (Some(annee), Some(mois)) => {
            let oldest = i32::from(today.year()) - 5;
            if !(1..=12).contains(&mois) {
                problem(
                    PaperField::Periode,
                    format!("Mois « {mois} » : il doit être compris entre 1 et 12."),
                );
            } else if annee < oldest
                || (annee, mois) > (i32::from(today.year()), i32::from(today.month()))
            {
                problem(
                    PaperField::Periode,
                    format!(
                        "Période {mois:02}/{annee} : elle doit être comprise entre {oldest} et le \
                         mois en cours."
                    ),
                );
            }
        }
        _ => problem(
            PaperField::Periode,
            "Période : indiquez le mois et l'année du quotient familial écrits sur \
             l'attestation."
                .into(),
        ),
    }
    if paper_provider(&paper.fournisseur).is_none() {
        problem(
            PaperField::Fournisseur,
            "Organisme : choisissez la CAF (CNAF) ou la MSA, comme sur l'attestation.".into(),
        );
    }
    if paper.document.is_none() {
        problem(
            PaperField::Document,
            "Type de document : choisissez l'attestation de quotient familial, l'attestation de \
             paiement ou la notification de droits."
                .into(),
        );
    }
    problems
}

/// `CNAF` or `MSA` from what the agent chose ("CAF" too, any case).
fn paper_provider(text: &str) -> Option<&'static str> {
    match text.trim().to_uppercase().as_str() {
        "CNAF" | "CAF" => Some("CNAF"),
        "MSA" => Some("MSA"),
        _ => None,
    }
}

/// Checks a paper attestation and gives the QF to record; the first problem found is the
/// error (see [`paper_problems`] for all of them).
pub fn check_paper(paper: &PaperAttestation, today: Date) -> Result<NewQf> {
    if let Some(first) = paper_problems(paper, today).into_iter().next() {
        return Err(Error::validation(first.message));
    }
    match (paper.valeur, paper.annee, paper.mois, paper.document) {
        (Some(valeur), Some(annee), Some(mois), Some(document)) => Ok(NewQf {
            valeur: u32::try_from(valeur).ok(),
            annee,
            mois,
            fournisseur: paper_provider(&paper.fournisseur)
                .unwrap_or("CNAF")
                .to_string(),
            source: Source::AttestationPapier { document },
        }),
        // Unreachable: every missing part is a problem above.
        _ => Err(Error::validation(
            "Attestation papier : le formulaire est incomplet.",
        )),
    }
}

/// Checks and records a paper attestation in a family's history.
pub fn record_paper(
    tx: &Transaction<'_>,
    family_id: i64,
    paper: &PaperAttestation,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<i64> {
    let qf = check_paper(paper, today)?;
    get(tx, family_id)?;
    add_qf(tx, family_id, &qf, agent, now)
}

/// Where "Enregistrer dans le dossier famille" puts a counter result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "type", content = "family_id", rename_all = "snake_case")]
#[ts(export, rename = "CounterDestination")]
pub enum Destination {
    /// Reconcile by identity: a sure match is used, a doubtful one returns candidates and
    /// writes nothing, none creates a family.
    Reconcile,
    /// The family the agent chose.
    Family(#[ts(type = "number")] i64),
    /// A new family, as the agent asked.
    New,
}

/// The typed identity and the counter's result as family members: the person at the counter
/// (the pivot identity, birth place included) first, then the other allocataires and children.
pub fn counter_members(identity: &IdentityInput, result: &CounterResult) -> Vec<NewMember> {
    let pivot = NewMember {
        role: Some(Role::Allocataire),
        nom_naissance: identity.nom_naissance.trim().to_string(),
        nom_usage: identity
            .nom_usage
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        prenoms: identity
            .prenoms
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        sexe: Some(identity.sexe.trim().to_uppercase()).filter(|s| s == "F" || s == "M"),
        naissance: identity
            .date_naissance
            .as_deref()
            .map(BirthParts::from_iso)
            .unwrap_or_default(),
        pays_naissance: Some(identity.pays_naissance.trim().to_string()).filter(|s| !s.is_empty()),
        commune_naissance: identity.commune_naissance.clone().filter(|s| !s.is_empty()),
        commune_naissance_nom: identity
            .commune_naissance_nom
            .clone()
            .filter(|s| !s.is_empty()),
        departement_naissance: identity
            .departement_naissance
            .clone()
            .filter(|s| !s.is_empty()),
    };
    let person = |role: Role, p: &CounterPerson| NewMember {
        role: Some(role),
        nom_naissance: p.nom_naissance.clone().unwrap_or_default(),
        nom_usage: p.nom_usage.clone(),
        prenoms: p.prenoms.clone().unwrap_or_default(),
        sexe: p.sexe.clone(),
        naissance: p
            .date_naissance
            .as_deref()
            .map(BirthParts::from_display)
            .unwrap_or_default(),
        ..NewMember::default()
    };
    let mut people = vec![pivot];
    for p in result.allocataires.iter().flatten() {
        people.push(person(Role::Allocataire, p));
    }
    for p in result.enfants.iter().flatten() {
        people.push(person(Role::Enfant, p));
    }
    people
}

/// What "Enregistrer dans le dossier famille" saves: the identity typed at the counter, the
/// counter's result and where to put them.
#[derive(Debug, Clone, Copy)]
pub struct CounterRecord<'a> {
    pub commune_id: i64,
    pub identity: &'a IdentityInput,
    pub result: &'a CounterResult,
    pub destination: Destination,
}

/// "Enregistrer dans le dossier famille": saves the person at the counter, the family the
/// caisse sent back and the QF in the family file. The identity is checked with the counter's
/// rules first. `today` is the counter's local date (the current month when the card has none).
pub fn save_counter(
    tx: &Transaction<'_>,
    record: &CounterRecord<'_>,
    agent: &str,
    today: Date,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<Outcome> {
    let CounterRecord {
        commune_id,
        identity,
        result,
        destination,
    } = *record;
    identity::normalise(identity, today)?;
    let people = counter_members(identity, result);
    let (family_id, outcome) = match destination {
        Destination::Family(id) => {
            let family = get(tx, id)?;
            if family.commune_id != commune_id {
                return Err(Error::new(Code::NotFound, "Cette famille n'existe pas."));
            }
            (id, Outcome::Attached { family_id: id })
        }
        Destination::New => {
            let id = create(tx, commune_id, agent, now, random)?;
            (id, Outcome::Created { family_id: id })
        }
        Destination::Reconcile => match reconcile::decide(tx, commune_id, &people)? {
            reconcile::Decision::Sure(id) => (id, Outcome::Attached { family_id: id }),
            reconcile::Decision::Doubtful(candidates) => {
                return Ok(Outcome::Pending { candidates })
            }
            reconcile::Decision::None => {
                let id = create(tx, commune_id, agent, now, random)?;
                (id, Outcome::Created { family_id: id })
            }
        },
    };
    for (index, member) in people.iter().enumerate() {
        add_member(tx, family_id, member, index == 0, now)?;
    }
    if let Some(quotient) = &result.quotient {
        let fournisseur = quotient.fournisseur.as_deref().map(str::to_uppercase);
        if let Some(fournisseur) = fournisseur.filter(|f| f == "CNAF" || f == "MSA") {
            add_qf(
                tx,
                family_id,
                &NewQf {
                    valeur: quotient.valeur.and_then(|v| u32::try_from(v).ok()),
                    annee: quotient
                        .annee
                        .map(|y| y as i32)
                        .unwrap_or(i32::from(today.year())),
                    mois: quotient
                        .mois
                        .map(|m| m as i32)
                        .unwrap_or(i32::from(today.month())),
                    fournisseur,
                    source: Source::Guichet,
                },
                agent,
                now,
            )?;
        }
    }
    Ok(outcome)
}

/// Merges family `absorbed` into `kept`: members (the same person once, with what each side
/// knew), the whole QF history, the dossiers, the candidates, the notes, the opt-out (a request
/// on either side stands) and the `external_id`s (the absorbed one becomes an alias, so a letter
/// already sent still finds the family). `absorbed` is then removed.
pub fn merge(
    tx: &Transaction<'_>,
    kept: i64,
    absorbed: i64,
    agent: &str,
    now: Timestamp,
) -> Result<()> {
    if kept == absorbed {
        return Err(Error::validation(
            "Fusion : choisissez deux familles différentes.",
        ));
    }
    let keep = get(tx, kept)?;
    let gone = get(tx, absorbed)?;
    if keep.commune_id != gone.commune_id {
        return Err(Error::validation(
            "Fusion : les deux familles doivent appartenir à la même commune.",
        ));
    }
    let had_pivot = keep.pivot().is_some();
    for member in &gone.members {
        add_member(tx, kept, &member.as_new(), member.pivot && !had_pivot, now)?;
    }
    tx.execute(
        "UPDATE qf_history SET family_id = ?1 WHERE family_id = ?2",
        params![kept, absorbed],
    )?;
    tx.execute(
        "UPDATE family_dossiers SET family_id = ?1 WHERE family_id = ?2",
        params![kept, absorbed],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO family_candidates (dossier_id, family_id, score)
         SELECT dossier_id, ?1, score FROM family_candidates WHERE family_id = ?2",
        params![kept, absorbed],
    )?;
    tx.execute(
        "UPDATE family_aliases SET family_id = ?1 WHERE family_id = ?2",
        params![kept, absorbed],
    )?;
    tx.execute(
        "INSERT INTO family_aliases (external_id, family_id, merged_at, merged_by)
         VALUES (?1, ?2, ?3, ?4)",
        params![gone.external_id, kept, now.to_string(), agent],
    )?;
    let notes = match (keep.notes.is_empty(), gone.notes.is_empty()) {
        (_, true) => keep.notes.clone(),
        (true, false) => gone.notes.clone(),
        (false, false) => format!("{}\n{}", keep.notes, gone.notes),
    };
    tx.execute(
        "UPDATE families SET notes = ?2 WHERE id = ?1",
        params![kept, notes],
    )?;
    if keep.opt_out.is_none() && gone.opt_out.is_some() {
        tx.execute(
            "UPDATE families SET (opt_out_on, opt_out_channel, opt_out_recorded_at,
             opt_out_recorded_by) = (SELECT opt_out_on, opt_out_channel, opt_out_recorded_at,
             opt_out_recorded_by FROM families WHERE id = ?2) WHERE id = ?1",
            params![kept, absorbed],
        )?;
    }
    tx.execute("DELETE FROM family_search WHERE rowid = ?1", [absorbed])?;
    tx.execute("DELETE FROM families WHERE id = ?1", [absorbed])?;
    refresh_search(tx, kept)?;
    Ok(())
}

#[cfg(test)]
mod tests;
