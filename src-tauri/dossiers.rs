//! FormulaireQF dossiers in the store: what the sync engine saves and what the inbox reads.
//!
//! A dossier is keyed by its Hubee case id, and saving is idempotent on it: the sync engine may
//! see the same case twice (a duplicate notification, a pass interrupted between the commit and
//! the DELETE of its notification) and must never make two rows. The dossier and its files are
//! written by one call inside the caller's transaction, so a crash leaves either all of it or
//! nothing. A dossier is never deleted here: an incomplete one is completed by a later pass.

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::sync::formulaire_qf::{reference, Demande};

/// Where a dossier stands, as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Statut {
    /// Stored complete, not yet handled by an agent.
    Nouveau,
    /// Opened by an agent.
    Recu,
    /// Closed by an agent as processed (`DONE` on Hubee).
    Traite,
    /// Closed by an agent as refused (`REFUSED` on Hubee).
    Refuse,
    /// A file is not yet available on Hubee; a later pass completes it.
    Incomplet,
    /// A file is altered or unreadable; an agent must look at it.
    AVerifier,
    /// formulaire-qf closed the case on Hubee.
    Cloture,
}

impl Statut {
    /// The identifier stored in the database.
    pub fn id(self) -> &'static str {
        match self {
            Statut::Nouveau => "nouveau",
            Statut::Recu => "recu",
            Statut::Traite => "traite",
            Statut::Refuse => "refuse",
            Statut::Incomplet => "incomplet",
            Statut::AVerifier => "a_verifier",
            Statut::Cloture => "cloture",
        }
    }

    pub fn from_id(id: &str) -> Option<Statut> {
        Some(match id {
            "nouveau" => Statut::Nouveau,
            "recu" => Statut::Recu,
            "traite" => Statut::Traite,
            "refuse" => Statut::Refuse,
            "incomplet" => Statut::Incomplet,
            "a_verifier" => Statut::AVerifier,
            "cloture" => Statut::Cloture,
            _ => return None,
        })
    }

    /// The word the agent reads.
    pub fn label(self) -> &'static str {
        match self {
            Statut::Nouveau => "nouveau",
            Statut::Recu => "reçu",
            Statut::Traite => "traité",
            Statut::Refuse => "refusé",
            Statut::Incomplet => "incomplet",
            Statut::AVerifier => "à vérifier",
            Statut::Cloture => "clôturé",
        }
    }

    /// Whether the dossier still waits for a file or a check before it can be acknowledged.
    pub fn is_pending(self) -> bool {
        matches!(self, Statut::Incomplet | Statut::AVerifier)
    }
}

/// A checked file of a case.
#[derive(Clone, PartialEq, Eq)]
pub struct NewFile {
    pub attachment_id: String,
    pub file_name: String,
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for NewFile {
    /// A family's data stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFile")
            .field("file_name", &self.file_name)
            .field("bytes", &format_args!("{} octets", self.bytes.len()))
            .finish()
    }
}

/// What one pass learnt about a case.
#[derive(Debug, Clone)]
pub struct NewDossier {
    pub commune_id: i64,
    pub case_id: String,
    pub case_external_id: Option<String>,
    /// The parsed `FormulaireQF.json`, when it could be read.
    pub demande: Option<Demande>,
    /// The text of `FormulaireQF.json`, when it was downloaded.
    pub raw_json: Option<String>,
    /// `Nouveau` when complete, otherwise `Incomplet` or `AVerifier` with a `reason`.
    pub statut: Statut,
    pub reason: Option<String>,
    pub files: Vec<NewFile>,
}

/// A stored dossier, as the sync engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDossier {
    pub id: i64,
    pub commune_id: i64,
    pub case_id: String,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub statut: Statut,
    pub reason: Option<String>,
    pub attempts: i64,
    pub nom_naissance: Option<String>,
    pub prenoms: Option<String>,
    pub qf_fournisseur: Option<String>,
    pub qf_valeur: Option<i64>,
    pub qf_annee: Option<i64>,
    pub qf_mois: Option<i64>,
    pub nb_enfants: Option<i64>,
    pub received_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub decided_at: Option<Timestamp>,
    pub decision_message: Option<String>,
    pub intg_error_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

/// What [`save`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new row.
    Inserted(i64),
    /// A row that was incomplete or to check, updated (completed, or one more attempt counted).
    Updated(i64),
    /// A row already complete: nothing was written.
    AlreadyKnown(i64),
}

impl Saved {
    pub fn id(self) -> i64 {
        match self {
            Saved::Inserted(id) | Saved::Updated(id) | Saved::AlreadyKnown(id) => id,
        }
    }
}

/// Saves a dossier and its files, idempotent on the case id. Call it inside one
/// `store.write` so the dossier and its files are committed together.
pub fn save(tx: &Transaction<'_>, new: &NewDossier, now: Timestamp) -> Result<Saved> {
    let existing = find_by_case(tx, &new.case_id)?;
    let (id, inserted) = match existing {
        Some(stored) if !stored.statut.is_pending() => return Ok(Saved::AlreadyKnown(stored.id)),
        Some(stored) => {
            tx.execute(
                "UPDATE dossiers SET statut = ?2, reason = ?3, attempts = attempts + 1,
                 updated_at = ?4 WHERE id = ?1",
                params![stored.id, new.statut.id(), new.reason, now.to_string()],
            )?;
            (stored.id, false)
        }
        None => {
            let reference = new.case_external_id.as_deref().and_then(reference);
            let folder = new
                .case_external_id
                .as_deref()
                .map(|id| id.strip_suffix("-01").unwrap_or(id).to_string());
            tx.execute(
                "INSERT INTO dossiers (commune_id, case_id, case_external_id, folder_external_id,
                 reference, statut, reason, received_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    new.commune_id,
                    new.case_id,
                    new.case_external_id,
                    folder,
                    reference,
                    new.statut.id(),
                    new.reason,
                    now.to_string()
                ],
            )?;
            (tx.last_insert_rowid(), true)
        }
    };
    if let Some(demande) = &new.demande {
        let identite = &demande.identite;
        let quotient = demande.quotient.as_ref();
        let pivot_name =
            crate::text::fold(&format!("{} {}", identite.nom_naissance, identite.prenoms));
        // Agents look a family up by any of its names: the applicant's, an allocataire's
        // (married name included) or a child's.
        let mut names = vec![pivot_name.clone()];
        for person in demande.allocataires.iter().chain(&demande.enfants) {
            names.push(crate::text::fold(&format!(
                "{} {} {}",
                person.nom_naissance,
                person.nom_usage.as_deref().unwrap_or(""),
                person.prenoms
            )));
        }
        let search_name = names.join(" ");
        let identity_key = format!(
            "{}|{}",
            pivot_name,
            identite.date_naissance.as_deref().unwrap_or("")
        );
        tx.execute(
            "UPDATE dossiers SET external_id = ?2, nom_naissance = ?3, prenoms = ?4,
             date_naissance = ?5, search_name = ?6, qf_fournisseur = ?7, qf_valeur = ?8,
             qf_annee = ?9, qf_mois = ?10, nb_enfants = ?11, identity_key = ?12 WHERE id = ?1",
            params![
                id,
                demande.external_id,
                identite.nom_naissance,
                identite.prenoms,
                identite.date_naissance,
                search_name,
                quotient.map(|q| q.fournisseur.clone()),
                quotient.and_then(|q| q.valeur),
                quotient.and_then(|q| q.annee),
                quotient.and_then(|q| q.mois),
                demande.enfants.len() as i64,
                identity_key,
            ],
        )?;
    }
    if let Some(raw) = &new.raw_json {
        tx.execute(
            "UPDATE dossiers SET raw_json = ?2 WHERE id = ?1",
            params![id, raw],
        )?;
    }
    for file in &new.files {
        tx.execute(
            "INSERT INTO dossier_files (dossier_id, attachment_id, file_name, mime_type, bytes,
             sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dossier_id, attachment_id) DO UPDATE SET file_name = excluded.file_name,
             mime_type = excluded.mime_type, bytes = excluded.bytes, sha256 = excluded.sha256",
            params![
                id,
                file.attachment_id,
                file.file_name,
                file.mime_type,
                file.bytes,
                crate::hubee::sha256_base64(&file.bytes)
            ],
        )?;
    }
    Ok(if inserted {
        Saved::Inserted(id)
    } else {
        Saved::Updated(id)
    })
}

/// Records that Hubee was told `SI_RECEIVED`.
pub fn mark_acknowledged(tx: &Transaction<'_>, id: i64, now: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE dossiers SET acknowledged_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now.to_string()],
    )?;
    Ok(())
}

/// Records that an agent opened a "nouveau" dossier: it becomes "reçu".
pub fn mark_read(tx: &Transaction<'_>, id: i64, now: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE dossiers SET statut = 'recu', updated_at = ?2 WHERE id = ?1 AND statut = 'nouveau'",
        params![id, now.to_string()],
    )?;
    Ok(())
}

/// Records that Hubee was told `SI_INTG_ERROR`; the dossier stays as it is.
pub fn mark_integration_error(tx: &Transaction<'_>, id: i64, now: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE dossiers SET intg_error_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now.to_string()],
    )?;
    Ok(())
}

/// Records an agent's decision ("traité" or "refusé") once Hubee accepted it.
pub fn mark_decided(
    tx: &Transaction<'_>,
    id: i64,
    statut: Statut,
    message: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE dossiers SET statut = ?2, decision_message = ?3, decided_at = ?4, updated_at = ?4
         WHERE id = ?1",
        params![id, statut.id(), message, now.to_string()],
    )?;
    Ok(())
}

/// Records that formulaire-qf closed the case on Hubee. Returns `false` when the case is unknown.
pub fn mark_closed(tx: &Transaction<'_>, case_id: &str, now: Timestamp) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE dossiers SET statut = 'cloture', closed_at = ?2, updated_at = ?2
         WHERE case_id = ?1",
        params![case_id, now.to_string()],
    )?;
    Ok(changed > 0)
}

pub(crate) const COLUMNS: &str =
    "id, commune_id, case_id, reference, external_id, statut, reason, attempts,
    nom_naissance, prenoms, qf_fournisseur, qf_valeur, qf_annee, qf_mois, nb_enfants,
    received_at, acknowledged_at, intg_error_at, closed_at, decided_at, decision_message";

pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDossier> {
    let time = |index: usize| -> rusqlite::Result<Option<Timestamp>> {
        let text: Option<String> = row.get(index)?;
        Ok(text.and_then(|text| text.parse().ok()))
    };
    let statut: String = row.get(5)?;
    Ok(StoredDossier {
        id: row.get(0)?,
        commune_id: row.get(1)?,
        case_id: row.get(2)?,
        reference: row.get(3)?,
        external_id: row.get(4)?,
        statut: Statut::from_id(&statut).unwrap_or(Statut::AVerifier),
        reason: row.get(6)?,
        attempts: row.get(7)?,
        nom_naissance: row.get(8)?,
        prenoms: row.get(9)?,
        qf_fournisseur: row.get(10)?,
        qf_valeur: row.get(11)?,
        qf_annee: row.get(12)?,
        qf_mois: row.get(13)?,
        nb_enfants: row.get(14)?,
        received_at: time(15)?.unwrap_or(Timestamp::UNIX_EPOCH),
        acknowledged_at: time(16)?,
        intg_error_at: time(17)?,
        closed_at: time(18)?,
        decided_at: time(19)?,
        decision_message: row.get(20)?,
    })
}

pub fn find_by_case(conn: &Connection, case_id: &str) -> Result<Option<StoredDossier>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM dossiers WHERE case_id = ?1"),
            [case_id],
            from_row,
        )
        .optional()?)
}

/// A commune's dossiers, newest first.
pub fn list(conn: &Connection, commune_id: i64) -> Result<Vec<StoredDossier>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM dossiers WHERE commune_id = ?1 ORDER BY received_at DESC, id DESC"
    ))?;
    let rows = statement
        .query_map([commune_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The other dossiers of the same family (same pivot identity) in the commune, newest first:
/// a family may submit the form several times, each time as a new case.
pub fn same_family(conn: &Connection, dossier: &StoredDossier) -> Result<Vec<StoredDossier>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM dossiers WHERE commune_id = ?1 AND id != ?2
         AND identity_key = (SELECT identity_key FROM dossiers WHERE id = ?2)
         ORDER BY received_at DESC, id DESC"
    ))?;
    let rows = statement
        .query_map(params![dossier.commune_id, dossier.id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: i64) -> Result<StoredDossier> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM dossiers WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Ce dossier n'existe pas."))
}

/// The names of a dossier's stored files, in attachment order.
pub fn file_names(conn: &Connection, dossier_id: i64) -> Result<Vec<String>> {
    let mut statement =
        conn.prepare("SELECT file_name FROM dossier_files WHERE dossier_id = ?1 ORDER BY id")?;
    let rows = statement
        .query_map([dossier_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A commune's last passes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncHealth {
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    /// In French, for the agent; `None` after a pass that completed.
    pub last_error: Option<String>,
}

impl SyncHealth {
    /// Whether the next automatic pass is due, `interval_minutes` after the last attempt (a
    /// failed attempt waits too: retrying an outage every few seconds would not help Hubee).
    pub fn due(&self, interval_minutes: u32, now: Timestamp) -> bool {
        match self.last_attempt {
            None => true,
            Some(last) => {
                let elapsed = now.duration_since(last);
                // A clock set back (last attempt "in the future") must not stop polling.
                elapsed.is_negative()
                    || elapsed >= jiff::SignedDuration::from_mins(i64::from(interval_minutes))
            }
        }
    }
}

/// Records a pass: `error` is `None` when it completed.
pub fn record_pass(
    tx: &Transaction<'_>,
    commune_id: i64,
    now: Timestamp,
    error: Option<&str>,
) -> Result<()> {
    let at = now.to_string();
    tx.execute(
        "INSERT INTO sync_health (commune_id, last_attempt, last_success, last_error)
         VALUES (?1, ?2, CASE WHEN ?3 IS NULL THEN ?2 END, ?3)
         ON CONFLICT (commune_id) DO UPDATE SET last_attempt = excluded.last_attempt,
         last_success = COALESCE(excluded.last_success, sync_health.last_success),
         last_error = excluded.last_error",
        params![commune_id, at, error],
    )?;
    Ok(())
}

pub fn sync_health(conn: &Connection, commune_id: i64) -> Result<SyncHealth> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT last_attempt, last_success, last_error FROM sync_health
             WHERE commune_id = ?1",
            [commune_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((attempt, success, error)) = row else {
        return Ok(SyncHealth::default());
    };
    let parse = |text: Option<String>| text.and_then(|text| text.parse().ok());
    Ok(SyncHealth {
        last_attempt: parse(attempt),
        last_success: parse(success),
        last_error: error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::sync::formulaire_qf::parse;

    fn setup() -> (tempfile::TempDir, Store, i64) {
        crate::fixtures::store_with_commune()
    }

    fn dossier(commune_id: i64, statut: Statut, files: usize) -> NewDossier {
        let json = r#"{"external_id": "INSCR-1", "pivot_identity": {"family_name": "LÉGER",
            "given_name": "Zoé"}, "quotient_familial_v3": {"allocataires": [],
            "enfants": [{"nom_naissance": "LEGER", "prenoms": "ANA"}],
            "quotient_familial": {"fournisseur": "CNAF", "valeur": 640, "annee": 2026,
            "mois": 4}}}"#;
        NewDossier {
            commune_id,
            case_id: "case-1".into(),
            case_external_id: Some("Formulaire-QF-3F9A0C7B21D4E-01".into()),
            demande: Some(parse(json.as_bytes()).unwrap()),
            raw_json: Some(json.into()),
            statut,
            reason: statut
                .is_pending()
                .then(|| "Un fichier n'est pas encore disponible.".to_string()),
            files: (0..files)
                .map(|i| NewFile {
                    attachment_id: format!("att-{i}"),
                    file_name: format!("fichier-{i}"),
                    mime_type: None,
                    bytes: vec![i as u8; 10],
                })
                .collect(),
        }
    }

    #[test]
    fn a_pass_is_due_once_the_interval_has_passed_since_the_last_attempt() {
        let at = |second: i64| Timestamp::from_second(1_795_000_000 + second).unwrap();
        assert!(SyncHealth::default().due(10, at(0)), "never polled");
        let health = SyncHealth {
            last_attempt: Some(at(0)),
            last_success: None,
            last_error: Some("Hubee ne répond pas.".into()),
        };
        assert!(!health.due(10, at(599)));
        assert!(health.due(10, at(600)), "a failed attempt is retried too");
        assert!(
            health.due(10, at(-60)),
            "a clock set back must not stop polling"
        );
    }

    #[test]
    fn saving_is_idempotent_on_the_case_id() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let first = store
            .write(|tx| save(tx, &dossier(commune, Statut::Nouveau, 3), now))
            .unwrap();
        assert!(matches!(first, Saved::Inserted(_)));
        let again = store
            .write(|tx| save(tx, &dossier(commune, Statut::Nouveau, 3), now))
            .unwrap();
        assert_eq!(again, Saved::AlreadyKnown(first.id()));
        let all = store.read(|c| list(c, commune)).unwrap();
        assert_eq!(all.len(), 1);
        let stored = &all[0];
        assert_eq!(stored.reference.as_deref(), Some("3F9A0C7B21D4E"));
        assert_eq!(stored.external_id.as_deref(), Some("INSCR-1"));
        assert_eq!(stored.qf_valeur, Some(640));
        assert_eq!(stored.nb_enfants, Some(1));
        assert_eq!(stored.received_at, now);
        let search: String = store
            .read(|c| Ok(c.query_row("SELECT search_name FROM dossiers", [], |r| r.get(0))?))
            .unwrap();
        // The applicant's names, then each allocataire's and child's.
        assert_eq!(search, "leger zoe leger ana");
        assert_eq!(store.read(|c| file_names(c, stored.id)).unwrap().len(), 3);
    }

    #[test]
    fn an_incomplete_dossier_is_completed_in_place() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let first = store
            .write(|tx| save(tx, &dossier(commune, Statut::Incomplet, 2), now))
            .unwrap();
        let stored = store.read(|c| find_by_case(c, "case-1")).unwrap().unwrap();
        assert_eq!(stored.statut, Statut::Incomplet);
        assert!(stored.reason.is_some());
        let second = store
            .write(|tx| save(tx, &dossier(commune, Statut::Nouveau, 3), now))
            .unwrap();
        assert_eq!(second, Saved::Updated(first.id()));
        let stored = store.read(|c| find_by_case(c, "case-1")).unwrap().unwrap();
        assert_eq!(stored.statut, Statut::Nouveau);
        assert_eq!(stored.reason, None);
        assert_eq!(stored.attempts, 2);
        assert_eq!(store.read(|c| file_names(c, stored.id)).unwrap().len(), 3);
    }

    #[test]
    fn a_failed_transaction_leaves_nothing() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::UNIX_EPOCH;
        let result: Result<()> = store.write(|tx| {
            save(tx, &dossier(commune, Statut::Nouveau, 3), now)?;
            Err(crate::error::Error::validation("coupure"))
        });
        assert!(result.is_err());
        assert!(store.read(|c| find_by_case(c, "case-1")).unwrap().is_none());
        let files: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM dossier_files", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(files, 0);
    }

    #[test]
    fn submissions_of_one_family_are_grouped() {
        let (_dir, store, commune) = setup();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        for case in ["case-1", "case-2", "case-3"] {
            let mut new = dossier(commune, Statut::Nouveau, 0);
            new.case_id = case.into();
            new.case_external_id = None;
            if case == "case-3" {
                let demande = new.demande.as_mut().unwrap();
                demande.identite.nom_naissance = "AUTRE".into();
            }
            store.write(|tx| save(tx, &new, now)).unwrap();
        }
        let first = store.read(|c| find_by_case(c, "case-1")).unwrap().unwrap();
        let family = store.read(|c| same_family(c, &first)).unwrap();
        assert_eq!(family.len(), 1);
        assert_eq!(family[0].case_id, "case-2");
        assert_eq!(store.read(|c| get(c, first.id)).unwrap(), first);
        assert_eq!(
            store.read(|c| get(c, 999)).unwrap_err().code,
            Code::NotFound
        );
    }

    #[test]
    fn sync_health_keeps_the_last_success() {
        let (_dir, store, commune) = setup();
        let t1 = Timestamp::from_second(1_795_000_000).unwrap();
        let t2 = Timestamp::from_second(1_795_000_600).unwrap();
        store
            .write(|tx| record_pass(tx, commune, t1, None))
            .unwrap();
        store
            .write(|tx| record_pass(tx, commune, t2, Some("Hubee est indisponible.")))
            .unwrap();
        let health = store.read(|c| sync_health(c, commune)).unwrap();
        assert_eq!(health.last_attempt, Some(t2));
        assert_eq!(health.last_success, Some(t1));
        assert_eq!(
            health.last_error.as_deref(),
            Some("Hubee est indisponible.")
        );
    }
}
