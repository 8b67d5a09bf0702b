//! Which family an arriving dossier (or counter result) belongs to.
//!
//! First by `external_id`: a dossier sent through a family's personal QR code carries our
//! identifier in `FormulaireQF.json` (hubee.md §8.3, top-level `external_id`), which is proof
//! enough. Any other value (another software's code, a typo) falls through to the identity.
//!
//! Then by identity, with a score out of 100 against every family of the commune that shares
//! the applicant's birth name, or the first name and birth date of any arriving person:
//!
//! - **applicant (A, up to 70)**, against the best of the family's allocataires: same folded
//!   birth name 20; same first names 20 (10 when only the first one agrees); same complete
//!   birth date 25 (10 when the known parts agree without both being complete); same birth
//!   place 5 when both are known. A known birth-date part or birth place that differs means
//!   another person: A is 0 for that allocataire.
//! - **the others (B, up to 30)**: an arriving person is found in the family when the first
//!   first name and the birth date agree (and the birth name, for adults). The co-allocataire
//!   counts 10 × found / arriving, the children 20 × found / arriving. When none of a kind
//!   arrives: the full points if the family has none either, half otherwise.
//!
//! A **sure** match attaches automatically: score ≥ [`SURE`] with A ≥ [`SURE_APPLICANT`] (birth
//! name, all first names and complete birth date identical) and at least [`MARGIN`] points
//! ahead of the next family. So the same applicant and co-allocataire with half of the arriving
//! children found is sure; the same applicant whose children are all new, a misspelt first
//! name, or two families equally close, are **doubtful**: the candidates scoring ≥ [`DOUBTFUL`] wait for an
//! agent ("Rattacher à… / Créer une nouvelle famille"). Below, **none**: a new family, since a
//! family is never rejected and a wrong automatic attachment is worse than a later merge.

use jiff::Timestamp;
use rand::RngCore;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

use super::{
    add_member, add_qf, create, find_by_external_id, members, name_key, person_key, same_person,
    words, BirthParts, Member, NewMember, NewQf, Role, Source,
};
use crate::dossiers;
use crate::error::{Code, Error, Result};
use crate::sync::formulaire_qf::{self, Demande};

/// The least total score of a sure match.
pub const SURE: u32 = 85;
/// The least applicant score of a sure match: birth name, first names and full birth date.
pub const SURE_APPLICANT: u32 = 65;
/// How far ahead of the next family a sure match must be.
pub const MARGIN: u32 = 15;
/// The least score of a candidate shown to the agent.
pub const DOUBTFUL: u32 = 40;
/// How many candidates the agent is shown at most.
pub const MAX_CANDIDATES: usize = 5;

/// A family an arrival may belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "FamilyCandidate")]
pub struct Candidate {
    #[ts(type = "number")]
    pub family_id: i64,
    pub score: u32,
}

/// What reconciliation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export, rename = "ReconcileOutcome")]
pub enum Outcome {
    /// Attached to an existing family (by `external_id`, a sure match, or the agent's choice).
    Attached {
        #[ts(type = "number")]
        family_id: i64,
    },
    /// A new family was created.
    Created {
        #[ts(type = "number")]
        family_id: i64,
    },
    /// Doubtful: these families wait for the agent, best first.
    Pending { candidates: Vec<Candidate> },
}

/// The identity verdict alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Sure(i64),
    Doubtful(Vec<Candidate>),
    None,
}

/// The applicant's score against one allocataire (0 to 70).
fn applicant_score(arriving: &NewMember, member: &Member) -> u32 {
    let stored = member.as_new();
    if !arriving.naissance.compatible(&stored.naissance) {
        return 0;
    }
    let place = |m: &NewMember| {
        m.commune_naissance
            .clone()
            .or_else(|| m.commune_naissance_nom.as_deref().map(name_key))
            .or_else(|| m.pays_naissance.clone().filter(|p| p != "99100"))
    };
    let place_points = match (place(arriving), place(&stored)) {
        (Some(a), Some(b)) if a == b => 5,
        (Some(_), Some(_)) => return 0,
        _ => 0,
    };
    let mut score = place_points;
    if name_key(&arriving.nom_naissance) == name_key(&stored.nom_naissance) {
        score += 20;
    }
    let (a, b) = (words(&arriving.prenoms), words(&stored.prenoms));
    if !a.is_empty() && a == b {
        score += 20;
    } else if !a.is_empty() && a.first() == b.first() {
        score += 10;
    }
    let (x, y) = (arriving.naissance, stored.naissance);
    if x.is_complete() && y.is_complete() {
        score += 25;
    } else if x.mois.is_some() && y.mois.is_some() {
        score += 10;
    }
    score
}

/// The score of an arrival (applicant first) against a family's members, 0 to 100.
pub fn score(arrival: &[NewMember], family: &[Member]) -> (u32, u32) {
    let Some(applicant) = arrival.first() else {
        return (0, 0);
    };
    let best = family
        .iter()
        .filter(|m| m.role == Role::Allocataire)
        .map(|m| (applicant_score(applicant, m), m.id))
        .max_by_key(|(score, _)| *score);
    let (a, applicant_member) = best.unwrap_or((0, -1));
    let others: Vec<&NewMember> = arrival[1..]
        .iter()
        .filter(|p| !same_person(p, applicant))
        .collect();
    // The family's members besides the allocataire the applicant matched.
    let rest: Vec<NewMember> = family
        .iter()
        .filter(|m| m.id != applicant_member)
        .map(Member::as_new)
        .collect();
    let part = |role: Role, points: usize| -> u32 {
        let arriving: Vec<&&NewMember> = others
            .iter()
            .filter(|p| p.role.unwrap_or(Role::Allocataire) == role)
            .collect();
        if arriving.is_empty() {
            let known = rest.iter().any(|m| m.role == Some(role));
            return if known { points / 2 } else { points } as u32;
        }
        let found = arriving
            .iter()
            .filter(|p| rest.iter().any(|m| same_person(p, m)))
            .count();
        (points * found / arriving.len()) as u32
    };
    let b = part(Role::Allocataire, 10) + part(Role::Enfant, 20);
    (a + b, a)
}

/// The families of the commune an arrival may belong to, scored, best first.
fn scored(
    conn: &Connection,
    commune_id: i64,
    arrival: &[NewMember],
) -> Result<Vec<(u32, u32, i64)>> {
    let Some(applicant) = arrival.first() else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<Value> = vec![Value::Integer(commune_id)];
    keys.extend(
        arrival
            .iter()
            .filter(|p| p.naissance.annee.is_some())
            .map(|p| Value::Text(person_key(&p.prenoms, &p.naissance))),
    );
    let persons = vec!["?"; keys.len() - 1].join(", ");
    keys.push(Value::Text(name_key(&applicant.nom_naissance)));
    let mut statement = conn.prepare(&format!(
        "SELECT DISTINCT m.family_id FROM family_members m JOIN families f ON f.id = m.family_id
         WHERE f.commune_id = ?1 AND (m.person_key IN ({persons}) OR m.name_key = ?{})
         LIMIT 200",
        keys.len()
    ))?;
    let ids = statement
        .query_map(rusqlite::params_from_iter(keys), |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut scores = Vec::with_capacity(ids.len());
    for id in ids {
        let (total, a) = score(arrival, &members(conn, id)?);
        scores.push((total, a, id));
    }
    scores.sort_by(|x, y| y.0.cmp(&x.0).then(x.2.cmp(&y.2)));
    Ok(scores)
}

/// Decides by identity alone (see the module documentation for the thresholds).
pub(crate) fn decide(
    conn: &Connection,
    commune_id: i64,
    arrival: &[NewMember],
) -> Result<Decision> {
    let scores = scored(conn, commune_id, arrival)?;
    let Some(&(best, best_applicant, best_id)) = scores.first() else {
        return Ok(Decision::None);
    };
    let next = scores.get(1).map(|s| s.0).unwrap_or(0);
    if best >= SURE && best_applicant >= SURE_APPLICANT && best >= next + MARGIN {
        return Ok(Decision::Sure(best_id));
    }
    let candidates: Vec<Candidate> = scores
        .iter()
        .filter(|s| s.0 >= DOUBTFUL)
        .take(MAX_CANDIDATES)
        .map(|&(score, _, family_id)| Candidate { family_id, score })
        .collect();
    Ok(if candidates.is_empty() {
        Decision::None
    } else {
        Decision::Doubtful(candidates)
    })
}

/// The dossier's people as family members: the FranceConnect applicant first (the pivot
/// identity, with the birth place), then the allocataires and children sent by the caisse.
pub fn dossier_members(demande: &Demande) -> Vec<NewMember> {
    let identite = &demande.identite;
    let pays = identite.pays_naissance.clone();
    let applicant = NewMember {
        role: Some(Role::Allocataire),
        nom_naissance: identite.nom_naissance.clone(),
        nom_usage: None,
        prenoms: identite.prenoms.clone(),
        sexe: match identite.genre.as_deref() {
            Some("female") => Some("F".to_string()),
            Some("male") => Some("M".to_string()),
            _ => None,
        },
        naissance: identite
            .date_naissance
            .as_deref()
            .map(BirthParts::from_iso)
            .unwrap_or_default(),
        commune_naissance: identite
            .lieu_naissance
            .clone()
            .filter(|_| pays.as_deref().is_none_or(|p| p == "99100")),
        pays_naissance: pays,
        ..NewMember::default()
    };
    let person = |role: Role, p: &formulaire_qf::Personne| NewMember {
        role: Some(role),
        nom_naissance: p.nom_naissance.clone(),
        nom_usage: p.nom_usage.clone(),
        prenoms: p.prenoms.clone(),
        sexe: p.sexe.clone(),
        naissance: p
            .date_naissance
            .as_deref()
            .map(BirthParts::from_iso)
            .unwrap_or_default(),
        ..NewMember::default()
    };
    let mut people = vec![applicant];
    people.extend(
        demande
            .allocataires
            .iter()
            .map(|p| person(Role::Allocataire, p)),
    );
    people.extend(demande.enfants.iter().map(|p| person(Role::Enfant, p)));
    people
}

/// The stored dossier's commune and parsed content; an error for a dossier not yet read.
fn load(conn: &Connection, dossier_id: i64) -> Result<(i64, Demande)> {
    let dossier = dossiers::get(conn, dossier_id)?;
    let raw: Option<String> = conn.query_row(
        "SELECT raw_json FROM dossiers WHERE id = ?1",
        [dossier_id],
        |row| row.get(0),
    )?;
    let demande = raw
        .map(|raw| formulaire_qf::parse(raw.as_bytes()))
        .transpose()?
        .ok_or_else(|| {
            Error::validation(
                "Ce dossier n'a pas encore été lu en entier : il sera rattaché à une famille \
                 quand son contenu sera arrivé.",
            )
        })?;
    Ok((dossier.commune_id, demande))
}

fn attached_family(conn: &Connection, dossier_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT family_id FROM family_dossiers WHERE dossier_id = ?1",
            [dossier_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// Writes the dossier into the family: its people, its QF, the link and how it was decided.
fn attach(
    tx: &Transaction<'_>,
    dossier_id: i64,
    demande: &Demande,
    family_id: i64,
    how: &str,
    agent: &str,
    now: Timestamp,
) -> Result<()> {
    if let Some(other) = attached_family(tx, dossier_id)? {
        if other == family_id {
            return Ok(());
        }
        return Err(Error::new(
            Code::Conflict,
            "Ce dossier est déjà rattaché à une autre famille : fusionnez les deux familles si \
             elles n'en font qu'une.",
        ));
    }
    for (index, member) in dossier_members(demande).iter().enumerate() {
        add_member(tx, family_id, member, index == 0, now)?;
    }
    if let Some(quotient) = &demande.quotient {
        let fournisseur = quotient.fournisseur.to_uppercase();
        // A dossier without a value is formulaire-qf's "ERREUR", not "ressources non connues":
        // nothing is known, so nothing is recorded.
        if let (Some(valeur), Some(annee), Some(mois), true) = (
            quotient.valeur,
            quotient.annee,
            quotient.mois,
            fournisseur == "CNAF" || fournisseur == "MSA",
        ) {
            if (1..=12).contains(&mois) {
                let qf = NewQf {
                    valeur: Some(valeur),
                    annee,
                    mois,
                    fournisseur,
                    source: Source::DossierHubee { dossier_id },
                };
                add_qf(tx, family_id, &qf, agent, now)?;
            }
        }
    }
    tx.execute(
        "INSERT INTO family_dossiers (dossier_id, family_id, how, attached_at, attached_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![dossier_id, family_id, how, now.to_string(), agent],
    )?;
    tx.execute(
        "DELETE FROM family_candidates WHERE dossier_id = ?1",
        [dossier_id],
    )?;
    Ok(())
}

/// Reconciles a stored dossier: by `external_id`, else by identity. A sure match or an
/// `external_id` attaches it, a doubtful one stores the candidates for the agent, none creates
/// a family. Already attached: nothing changes.
pub fn reconcile_dossier(
    tx: &Transaction<'_>,
    dossier_id: i64,
    agent: &str,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<Outcome> {
    if let Some(family_id) = attached_family(tx, dossier_id)? {
        return Ok(Outcome::Attached { family_id });
    }
    let (commune_id, demande) = load(tx, dossier_id)?;
    if let Some(external_id) = demande.external_id.as_deref() {
        if let Some(family_id) = find_by_external_id(tx, commune_id, external_id)? {
            attach(
                tx,
                dossier_id,
                &demande,
                family_id,
                "external_id",
                agent,
                now,
            )?;
            return Ok(Outcome::Attached { family_id });
        }
    }
    match decide(tx, commune_id, &dossier_members(&demande))? {
        Decision::Sure(family_id) => {
            attach(tx, dossier_id, &demande, family_id, "identite", agent, now)?;
            Ok(Outcome::Attached { family_id })
        }
        Decision::Doubtful(candidates) => {
            tx.execute(
                "DELETE FROM family_candidates WHERE dossier_id = ?1",
                [dossier_id],
            )?;
            for candidate in &candidates {
                tx.execute(
                    "INSERT INTO family_candidates (dossier_id, family_id, score)
                     VALUES (?1, ?2, ?3)",
                    params![dossier_id, candidate.family_id, candidate.score],
                )?;
            }
            Ok(Outcome::Pending { candidates })
        }
        Decision::None => {
            let family_id = create_from_dossier(tx, dossier_id, agent, now, random)?;
            Ok(Outcome::Created { family_id })
        }
    }
}

/// The agent's "Rattacher à…": attaches the dossier to a family of its commune.
pub fn attach_dossier(
    tx: &Transaction<'_>,
    dossier_id: i64,
    family_id: i64,
    agent: &str,
    now: Timestamp,
) -> Result<()> {
    let (commune_id, demande) = load(tx, dossier_id)?;
    let family = super::get(tx, family_id)?;
    if family.commune_id != commune_id {
        return Err(Error::new(Code::NotFound, "Cette famille n'existe pas."));
    }
    attach(tx, dossier_id, &demande, family_id, "agent", agent, now)
}

/// The agent's "Créer une nouvelle famille" (and reconciliation's when nothing matches).
pub fn create_from_dossier(
    tx: &Transaction<'_>,
    dossier_id: i64,
    agent: &str,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<i64> {
    let (commune_id, demande) = load(tx, dossier_id)?;
    if let Some(family_id) = attached_family(tx, dossier_id)? {
        return Err(Error::new(
            Code::Conflict,
            format!(
                "Ce dossier est déjà rattaché à une famille (n° {family_id}) : ouvrez-la plutôt."
            ),
        ));
    }
    let family_id = create(tx, commune_id, agent, now, random)?;
    attach(tx, dossier_id, &demande, family_id, "nouvelle", agent, now)?;
    Ok(family_id)
}

/// The commune's dossiers received and acknowledged, not yet decided, whose QF is in the family
/// file: those the "close once in the family file" setting marks "traité", oldest first.
pub fn settled_dossiers(conn: &Connection, commune_id: i64) -> Result<Vec<i64>> {
    let mut statement = conn.prepare_cached(
        "SELECT d.id FROM dossiers d
         WHERE d.commune_id = ?1 AND d.statut IN ('nouveau', 'recu')
           AND d.acknowledged_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM qf_history q WHERE q.dossier_id = d.id)
         ORDER BY d.id",
    )?;
    let ids = statement
        .query_map([commune_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// The dossiers waiting for an agent, with their candidates, oldest first.
pub fn pending(conn: &Connection, commune_id: i64) -> Result<Vec<(i64, Vec<Candidate>)>> {
    let mut statement = conn.prepare(
        "SELECT c.dossier_id, c.family_id, c.score FROM family_candidates c
         JOIN dossiers d ON d.id = c.dossier_id WHERE d.commune_id = ?1
         ORDER BY d.received_at, c.dossier_id, c.score DESC, c.family_id",
    )?;
    let rows = statement
        .query_map([commune_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, u32>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut waiting: Vec<(i64, Vec<Candidate>)> = Vec::new();
    for (dossier_id, family_id, score) in rows {
        let candidate = Candidate { family_id, score };
        match waiting.last_mut() {
            Some((id, list)) if *id == dossier_id => list.push(candidate),
            _ => waiting.push((dossier_id, vec![candidate])),
        }
    }
    Ok(waiting)
}

/// The agent name of what the software does by itself (the sync engine's reconciliation), the
/// journal's own word for it.
pub const SYSTEM_AGENT: &str = crate::journal::AGENT_SYSTEM;

/// The commune's committed dossiers that reconciliation has not seen yet: read in full (not
/// "incomplet" nor "à vérifier"), neither attached to a family nor waiting for an agent. They
/// are the dossiers stored before the family file existed, and those whose reconciliation
/// failed right after they were committed.
pub fn unreconciled(conn: &Connection, commune_id: i64) -> Result<Vec<i64>> {
    let mut statement = conn.prepare_cached(
        "SELECT d.id FROM dossiers d
         WHERE d.commune_id = ?1 AND d.raw_json IS NOT NULL
         AND d.statut NOT IN ('incomplet', 'a_verifier')
         AND NOT EXISTS (SELECT 1 FROM family_dossiers fd WHERE fd.dossier_id = d.id)
         AND NOT EXISTS (SELECT 1 FROM family_candidates fc WHERE fc.dossier_id = d.id)
         ORDER BY d.received_at, d.id",
    )?;
    let ids = statement
        .query_map([commune_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// What [`reconcile_pending`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub attached: usize,
    pub created: usize,
    pub pending: usize,
    /// Dossiers whose reconciliation failed (logged); they are tried again next time.
    pub failed: usize,
}

/// Reconciles every [`unreconciled`] dossier of the commune as [`SYSTEM_AGENT`], oldest first
/// (so that a family's first dossier creates it and the next ones join it). Each dossier runs
/// in a savepoint of the caller's transaction: one that fails is rolled back alone, logged and
/// counted, and the others go on.
pub fn reconcile_pending(
    tx: &Transaction<'_>,
    commune_id: i64,
    now: Timestamp,
    random: &mut dyn RngCore,
) -> Result<Backlog> {
    let mut backlog = Backlog::default();
    for dossier_id in unreconciled(tx, commune_id)? {
        tx.execute_batch("SAVEPOINT reconcile_one")?;
        match reconcile_dossier(tx, dossier_id, SYSTEM_AGENT, now, random) {
            Ok(outcome) => {
                tx.execute_batch("RELEASE reconcile_one")?;
                match outcome {
                    Outcome::Attached { .. } => backlog.attached += 1,
                    Outcome::Created { .. } => backlog.created += 1,
                    Outcome::Pending { .. } => backlog.pending += 1,
                }
            }
            Err(error) => {
                tx.execute_batch("ROLLBACK TO reconcile_one; RELEASE reconcile_one")?;
                tracing::warn!(dossier_id, error = %error.detail(), "dossier not reconciled");
                backlog.failed += 1;
            }
        }
    }
    Ok(backlog)
}
