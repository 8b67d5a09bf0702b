//! The inbox as agents see it: the list of a commune's dossiers with search and family
//! grouping, the detail of one dossier, and the count behind the "new dossiers" badge.
//!
//! This is a read model over what the sync engine stored (`dossiers`): the engine's rows are
//! shaped for idempotence and acknowledgement, an agent's screen for finding a family quickly.
//! Keeping the two apart lets the window and the CLI share the same search rules without the
//! sync engine knowing about screens.
//!
//! Search is accent- and case-insensitive because agents type "Helene" for "Hélène": every word
//! typed must appear in the folded names of the dossier (the applicant, the allocataires and
//! the children). A query that looks like the 13-character reference the family was given, or
//! like the commune software's `external_id`, also finds the dossier by that identifier.
//!
//! A family that sends the form twice makes two Hubee cases; the list keeps them together,
//! newest first, so that the agent handles the latest and sees the earlier one beside it.
//!
//! Opening a dossier is a personal-data access: [`open`] marks it "reçu" and writes the access
//! journal in the same transaction, so there is never an opened dossier without its journal row.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::dossiers::{self, Statut, StoredDossier};
use crate::error::{Code, Error, Result};
use crate::journal;
use crate::store::Store;
use crate::sync::formulaire_qf::{self, Identite, Personne};

/// At most this many dossiers are listed at once; the agent narrows with the search.
pub const LIST_LIMIT: usize = 500;

/// What the agent asks the inbox for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct InboxQuery {
    #[ts(type = "number")]
    pub commune_id: i64,
    /// Names, a reference or an `external_id`; empty lists everything.
    #[serde(default)]
    pub text: String,
    /// Only the dossiers with this status.
    #[serde(default)]
    pub statut: Option<Statut>,
}

/// The quotient familial as the form transmitted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct QuotientView {
    /// `CNAF` or `MSA`.
    pub fournisseur: String,
    /// `None` when the form could not get it: shown as "non transmis", never as 0.
    #[ts(type = "number | null")]
    pub valeur: Option<i64>,
    #[ts(type = "number | null")]
    pub annee: Option<i64>,
    #[ts(type = "number | null")]
    pub mois: Option<i64>,
}

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct InboxRow {
    #[ts(type = "number")]
    pub id: i64,
    /// The 13 characters the family was given by the form.
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub statut: Statut,
    /// Why the dossier is "incomplet" or "à vérifier", in French.
    pub reason: Option<String>,
    pub nom: Option<String>,
    pub prenoms: Option<String>,
    pub quotient: Option<QuotientView>,
    #[ts(type = "number | null")]
    pub nb_enfants: Option<i64>,
    #[ts(type = "string")]
    pub recu_le: Timestamp,
    /// The family's dossiers are listed together: `rank` 0 is the newest, and `size` says how
    /// many dossiers of the family are listed.
    pub famille_rang: u32,
    pub famille_taille: u32,
}

/// The inbox's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    /// How many dossiers matched, which may be more than the rows listed.
    pub total: u32,
}

/// A file of the dossier as downloaded from Hubee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FileView {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub mime_type: Option<String>,
    #[ts(type = "number")]
    pub size: i64,
}

/// One step of the dossier's exchanges with Hubee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct HistoryEntry {
    #[ts(type = "string")]
    pub at: Timestamp,
    /// In French.
    pub label: String,
}

/// Everything the detail screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DossierDetail {
    pub row: InboxRow,
    #[ts(type = "string")]
    pub case_id: String,
    pub demandeur: Option<Identite>,
    pub allocataires: Vec<Personne>,
    pub enfants: Vec<Personne>,
    pub files: Vec<FileView>,
    /// When the retention purge removed the dossier's Hubee files (and the JSON the people
    /// lists are read from); the dossier itself stays.
    #[ts(type = "string | null")]
    pub files_eliminated_at: Option<Timestamp>,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
    /// The refusal message sent with `REFUSED`.
    pub decision_message: Option<String>,
    /// Whether "Traité" and "Refusé" are offered.
    pub closable: bool,
    /// The other dossiers of the same family, newest first.
    pub same_family: Vec<InboxRow>,
}

/// A file's content, to open in the system viewer.
#[derive(Clone, PartialEq, Eq)]
pub struct FileContent {
    pub name: String,
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FileContent {
    /// A family's data stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileContent")
            .field("name", &self.name)
            .field("bytes", &format_args!("{} octets", self.bytes.len()))
            .finish()
    }
}

/// Whether the text typed looks like a démarche reference (13 letters and digits).
fn as_reference(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 13 && text.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| text.to_ascii_uppercase())
}

/// The dossiers of `query.commune_id` matching the query, grouped by family, newest family
/// first.
pub fn search(conn: &Connection, query: &InboxQuery) -> Result<InboxPage> {
    let text = query.text.trim();
    if text.chars().count() > 200 {
        return Err(Error::validation(
            "La recherche est trop longue : tapez un nom, une référence ou un identifiant.",
        ));
    }
    let folded = crate::text::fold(text);
    let words: Vec<String> = folded
        .split(' ')
        .filter(|word| !word.is_empty())
        .map(|word| format!("%{}%", escape_like(word)))
        .collect();
    let mut sql = format!(
        "SELECT {COLUMNS}, identity_key FROM dossiers WHERE commune_id = ?1 AND (?2 IS NULL OR statut = ?2)"
    );
    let mut values: Vec<rusqlite::types::Value> = vec![
        query.commune_id.into(),
        query.statut.map(|s| s.id().to_string()).into(),
    ];
    if !text.is_empty() {
        let mut name_match = String::from("(1");
        for word in &words {
            values.push(word.clone().into());
            name_match.push_str(&format!(
                " AND search_name LIKE ?{} ESCAPE '\\'",
                values.len()
            ));
        }
        name_match.push(')');
        values.push(as_reference(text).unwrap_or_default().into());
        let reference = values.len();
        values.push(text.to_string().into());
        let identifier = values.len();
        sql.push_str(&format!(
            " AND ({name_match} OR upper(reference) = ?{reference} OR external_id = ?{identifier} \
             OR case_external_id = ?{identifier})"
        ));
    }
    sql.push_str(" ORDER BY received_at DESC, id DESC");
    let mut statement = conn.prepare(&sql)?;
    let found = statement
        .query_map(rusqlite::params_from_iter(values), |row| {
            Ok((dossiers::from_row(row)?, row.get::<_, Option<String>>(21)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = u32::try_from(found.len()).unwrap_or(u32::MAX);
    Ok(InboxPage {
        rows: group_by_family(found)
            .into_iter()
            .take(LIST_LIMIT)
            .collect(),
        total,
    })
}

const COLUMNS: &str = dossiers::COLUMNS;

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Orders newest-first rows so that a family's dossiers follow its newest one.
fn group_by_family(rows: Vec<(StoredDossier, Option<String>)>) -> Vec<InboxRow> {
    let mut groups: Vec<Vec<StoredDossier>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (dossier, key) in rows {
        match key.filter(|key| !key.is_empty()) {
            Some(key) => match index.get(&key) {
                Some(&at) => groups[at].push(dossier),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![dossier]);
                }
            },
            None => groups.push(vec![dossier]),
        }
    }
    groups
        .into_iter()
        .flat_map(|group| {
            let size = u32::try_from(group.len()).unwrap_or(u32::MAX);
            group
                .into_iter()
                .enumerate()
                .map(move |(rank, dossier)| row_of(dossier, rank as u32, size))
        })
        .collect()
}

fn row_of(dossier: StoredDossier, famille_rang: u32, famille_taille: u32) -> InboxRow {
    let quotient = dossier
        .qf_fournisseur
        .clone()
        .map(|fournisseur| QuotientView {
            fournisseur,
            valeur: dossier.qf_valeur,
            annee: dossier.qf_annee,
            mois: dossier.qf_mois,
        });
    InboxRow {
        id: dossier.id,
        reference: dossier.reference,
        external_id: dossier.external_id,
        statut: dossier.statut,
        reason: dossier.reason,
        nom: dossier.nom_naissance,
        prenoms: dossier.prenoms,
        quotient,
        nb_enfants: dossier.nb_enfants,
        recu_le: dossier.received_at,
        famille_rang,
        famille_taille,
    }
}

/// How many dossiers wait for an agent ("nouveau"), all communes together: the badge.
pub fn new_count(conn: &Connection) -> Result<u32> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM dossiers WHERE statut = 'nouveau'",
        [],
        |row| row.get(0),
    )?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The detail of a dossier, without marking it opened (after a decision, for instance).
pub fn detail(conn: &Connection, id: i64) -> Result<DossierDetail> {
    let dossier = dossiers::get(conn, id)?;
    let (raw_json, files_eliminated_at): (Option<String>, Option<String>) = conn.query_row(
        "SELECT raw_json, files_eliminated_at FROM dossiers WHERE id = ?1",
        [id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    // The stored JSON is read again rather than copied into columns: the detail screen is the
    // only reader of the people lists, and the parser already knows every shape of the file.
    let demande = raw_json.and_then(|raw| formulaire_qf::parse(raw.as_bytes()).ok());
    let files = {
        let mut statement = conn.prepare(
            "SELECT id, file_name, mime_type, length(bytes) FROM dossier_files
             WHERE dossier_id = ?1 ORDER BY id",
        )?;
        let rows = statement
            .query_map([id], |row| {
                Ok(FileView {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    mime_type: row.get(2)?,
                    size: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    let same_family = dossiers::same_family(conn, &dossier)?
        .into_iter()
        .map(|other| row_of(other, 0, 1))
        .collect::<Vec<_>>();
    let size = u32::try_from(same_family.len() + 1).unwrap_or(u32::MAX);
    let history = history(&dossier);
    let closable = matches!(dossier.statut, Statut::Nouveau | Statut::Recu)
        && dossier.acknowledged_at.is_some();
    Ok(DossierDetail {
        case_id: dossier.case_id.clone(),
        decision_message: dossier.decision_message.clone(),
        demandeur: demande.as_ref().map(|d| d.identite.clone()),
        allocataires: demande
            .as_ref()
            .map(|d| d.allocataires.clone())
            .unwrap_or_default(),
        enfants: demande
            .as_ref()
            .map(|d| d.enfants.clone())
            .unwrap_or_default(),
        files,
        files_eliminated_at: files_eliminated_at.and_then(|at| at.parse().ok()),
        history,
        closable,
        same_family,
        row: row_of(dossier, 0, size),
    })
}

/// The dossier's exchanges with Hubee, from what the sync engine and the agents recorded.
fn history(dossier: &StoredDossier) -> Vec<HistoryEntry> {
    let mut entries = vec![HistoryEntry {
        at: dossier.received_at,
        label: "Dossier relevé sur Hubee et enregistré dans Guichet QF".into(),
    }];
    if let Some(at) = dossier.acknowledged_at {
        entries.push(HistoryEntry {
            at,
            label: "Accusé de réception envoyé à Hubee (reçu par la commune)".into(),
        });
    }
    if let Some(at) = dossier.intg_error_at {
        entries.push(HistoryEntry {
            at,
            label: "Hubee informé que le dossier n'a pas pu être intégré".into(),
        });
    }
    if let Some(at) = dossier.decided_at {
        let label = match dossier.statut {
            Statut::Refuse => "Refus transmis à Hubee",
            _ => "Traitement transmis à Hubee (quotient familial pris en compte)",
        };
        entries.push(HistoryEntry {
            at,
            label: label.into(),
        });
    }
    if let Some(at) = dossier.closed_at {
        entries.push(HistoryEntry {
            at,
            label: "Démarche clôturée par le formulaire national".into(),
        });
    }
    entries.sort_by_key(|entry| entry.at);
    entries
}

/// Who opens a dossier, for the access journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub agent: String,
}

/// Opens a dossier for an agent: a "nouveau" dossier becomes "reçu", and the access is
/// journaled in the same transaction.
pub fn open(store: &Store, id: i64, reader: &Reader, now: Timestamp) -> Result<DossierDetail> {
    store.write(|tx| {
        let dossier = dossiers::get(tx, id)?;
        if dossier.statut == Statut::Nouveau {
            dossiers::mark_read(tx, id, now)?;
        }
        journal_opening(tx, &dossier, reader, now)?;
        detail(tx, id)
    })
}

/// The journal row of an opening: who, when, which dossier (its reference, never a name).
fn journal_opening(
    tx: &Transaction<'_>,
    dossier: &StoredDossier,
    reader: &Reader,
    now: Timestamp,
) -> Result<()> {
    let mut entry = journal::Entry::new(now, reader.agent.clone(), journal::Action::DossierOuvert);
    entry.commune_id = Some(dossier.commune_id);
    entry.reference = Some(
        dossier
            .reference
            .clone()
            .unwrap_or_else(|| format!("dossier Hubee {}", dossier.case_id)),
    );
    entry.motif = Some("consultation d'un dossier reçu par Hubee".into());
    journal::append(tx, &entry)?;
    Ok(())
}

/// A stored file of a dossier.
pub fn file(conn: &Connection, file_id: i64) -> Result<FileContent> {
    conn.query_row(
        "SELECT file_name, mime_type, bytes FROM dossier_files WHERE id = ?1",
        [file_id],
        |row| {
            Ok(FileContent {
                name: row.get(0)?,
                mime_type: row.get(1)?,
                bytes: row.get(2)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Ce fichier n'existe pas (ou plus)."))
}

/// The dossier a file belongs to.
pub fn file_dossier(conn: &Connection, file_id: i64) -> Result<i64> {
    conn.query_row(
        "SELECT dossier_id FROM dossier_files WHERE id = ?1",
        params![file_id],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Ce fichier n'existe pas (ou plus)."))
}

/// The folder of the data directory where opened files are written for the system viewer.
pub const VIEWER_FOLDER: &str = "fichiers-ouverts";

/// Writes a dossier's file where the system viewer can open it, under a name that says whose
/// file it is ("ABCD1234EFGH5-FormulaireQF.pdf"). The folder is emptied at every start.
pub fn write_for_viewer(
    dir: &std::path::Path,
    reference: Option<&str>,
    content: &FileContent,
) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    // The name comes from Hubee: only its last component is kept, with harmless characters,
    // so that it can never point outside the folder.
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .trim_start_matches('.')
            .to_string()
    };
    let base = std::path::Path::new(&content.name)
        .file_name()
        .map(|name| safe(&name.to_string_lossy()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "fichier".into());
    let name = match reference {
        Some(reference) => format!("{}-{base}", safe(reference)),
        None => base,
    };
    let path = dir.join(name);
    std::fs::write(&path, &content.bytes)?;
    Ok(path)
}

/// Empties the viewer folder; a file still open in a viewer on Windows is left for next time.
pub fn clear_viewer_dir(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if let Err(error) = std::fs::remove_file(entry.path()) {
            tracing::debug!(%error, "opened file not removed yet");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communes::{add, Environment, NewCommune};
    use crate::dossiers::{NewDossier, NewFile};

    fn setup() -> (tempfile::TempDir, Store, i64) {
        crate::fixtures::store_with_commune()
    }

    /// Saves a complete dossier of the family `nom prenom` received at `second`.
    fn receive(
        store: &Store,
        commune_id: i64,
        case: &str,
        (nom, prenom, naissance): (&str, &str, &str),
        second: i64,
    ) -> i64 {
        let reference = format!("{:0>13}", case.to_ascii_uppercase());
        let json = format!(
            r#"{{"external_id": "EXT-{case}", "pivot_identity": {{"family_name": "{nom}",
            "given_name": "{prenom}", "birthdate": "{naissance}", "gender": "female",
            "birthcountry": "99100", "birthplace": "04107"}},
            "quotient_familial_v3": {{"allocataires": [{{"nom_naissance": "{nom}",
            "nom_usage": "DE LA FONTAINE", "prenoms": "{prenom}"}}],
            "enfants": [{{"nom_naissance": "{nom}", "prenoms": "Élise"}}],
            "quotient_familial": {{"fournisseur": "CNAF", "valeur": 512, "annee": 2026,
            "mois": 10}}}}}}"#
        );
        let new = NewDossier {
            commune_id,
            case_id: case.into(),
            case_external_id: Some(format!("Formulaire-QF-{reference}-01")),
            demande: Some(formulaire_qf::parse(json.as_bytes()).unwrap()),
            raw_json: Some(json),
            statut: Statut::Nouveau,
            reason: None,
            files: vec![NewFile {
                attachment_id: format!("{case}-pdf"),
                file_name: "../FormulaireQF.pdf".into(),
                mime_type: Some("application/pdf".into()),
                bytes: b"%PDF-1.7 test".to_vec(),
            }],
        };
        let at = Timestamp::from_second(1_795_000_000 + second).unwrap();
        let saved = store.write(|tx| dossiers::save(tx, &new, at)).unwrap();
        store
            .write(|tx| dossiers::mark_acknowledged(tx, saved.id(), at))
            .unwrap();
        saved.id()
    }

    fn find(store: &Store, commune_id: i64, text: &str) -> Vec<i64> {
        let query = InboxQuery {
            commune_id,
            text: text.into(),
            statut: None,
        };
        let page = store.read(|conn| search(conn, &query)).unwrap();
        page.rows.iter().map(|row| row.id).collect()
    }

    const HELENE: (&str, &str, &str) = ("LÉVÊQUE", "Hélène Marie", "1988-03-14");
    const PAUL: (&str, &str, &str) = ("MARTIN", "Paul", "1979-11-02");

    #[test]
    fn search_ignores_accents_and_case_and_finds_every_name_of_the_family() {
        let (_dir, store, commune) = setup();
        let helene = receive(&store, commune, "case1", HELENE, 0);
        let paul = receive(&store, commune, "case2", PAUL, 10);
        assert_eq!(find(&store, commune, ""), vec![paul, helene]);
        assert_eq!(find(&store, commune, "leveque"), vec![helene]);
        assert_eq!(find(&store, commune, "  HELENE   lévêque "), vec![helene]);
        assert_eq!(find(&store, commune, "helene paul"), Vec::<i64>::new());
        // A child's first name and an allocataire's married name find the family too.
        assert_eq!(find(&store, commune, "elise martin"), vec![paul]);
        assert_eq!(find(&store, commune, "de la fontaine"), vec![paul, helene]);
        // LIKE wildcards typed by the agent are plain characters.
        assert_eq!(find(&store, commune, "%"), Vec::<i64>::new());
        assert_eq!(find(&store, commune, "_"), Vec::<i64>::new());
    }

    #[test]
    fn search_finds_a_dossier_by_its_reference_or_external_id() {
        let (_dir, store, commune) = setup();
        let helene = receive(&store, commune, "case1", HELENE, 0);
        receive(&store, commune, "case2", PAUL, 10);
        assert_eq!(find(&store, commune, "00000000CASE1"), vec![helene]);
        assert_eq!(find(&store, commune, "00000000case1"), vec![helene]);
        assert_eq!(find(&store, commune, "EXT-case1"), vec![helene]);
        assert_eq!(find(&store, commune, "00000000CASE9"), Vec::<i64>::new());
    }

    #[test]
    fn the_status_filter_and_the_commune_narrow_the_list() {
        let (_dir, store, commune) = setup();
        let other = add(
            &store,
            &NewCommune {
                siret: "21730132400018".into(),
                name: "Autre".into(),
                cog: "73013".into(),
                environment: Environment::Simulateur,
            },
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        let helene = receive(&store, commune, "case1", HELENE, 0);
        receive(&store, other.id, "case2", PAUL, 10);
        assert_eq!(find(&store, commune, ""), vec![helene]);
        let reader = Reader {
            agent: "Agent".into(),
        };
        open(&store, helene, &reader, Timestamp::UNIX_EPOCH).unwrap();
        let by = |statut| InboxQuery {
            commune_id: commune,
            text: String::new(),
            statut: Some(statut),
        };
        let recu = store.read(|c| search(c, &by(Statut::Recu))).unwrap();
        assert_eq!(recu.rows.len(), 1);
        assert_eq!(recu.total, 1);
        let nouveau = store.read(|c| search(c, &by(Statut::Nouveau))).unwrap();
        assert!(nouveau.rows.is_empty());
    }

    #[test]
    fn a_family_sending_twice_is_listed_together_newest_first() {
        let (_dir, store, commune) = setup();
        let first = receive(&store, commune, "case1", HELENE, 0);
        let paul = receive(&store, commune, "case2", PAUL, 10);
        let second = receive(&store, commune, "case3", HELENE, 20);
        let page = store
            .read(|c| {
                search(
                    c,
                    &InboxQuery {
                        commune_id: commune,
                        ..InboxQuery::default()
                    },
                )
            })
            .unwrap();
        let order: Vec<(i64, u32, u32)> = page
            .rows
            .iter()
            .map(|r| (r.id, r.famille_rang, r.famille_taille))
            .collect();
        assert_eq!(order, vec![(second, 0, 2), (first, 1, 2), (paul, 0, 1)]);
        let detail = store.read(|c| detail(c, second)).unwrap();
        let others: Vec<i64> = detail.same_family.iter().map(|r| r.id).collect();
        assert_eq!(others, vec![first]);
    }

    #[test]
    fn opening_marks_the_dossier_read_once_and_shows_its_people_and_files() {
        let (_dir, store, commune) = setup();
        let helene = receive(&store, commune, "case1", HELENE, 0);
        assert_eq!(store.read(new_count).unwrap(), 1);
        let reader = Reader {
            agent: "Agent".into(),
        };
        let shown = open(&store, helene, &reader, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(shown.row.statut, Statut::Recu);
        assert!(shown.closable);
        assert_eq!(store.read(new_count).unwrap(), 0);
        let pivot = shown.demandeur.as_ref().unwrap();
        assert_eq!(pivot.nom_naissance, "LÉVÊQUE");
        assert_eq!(pivot.date_naissance.as_deref(), Some("1988-03-14"));
        assert_eq!(shown.allocataires.len(), 1);
        assert_eq!(shown.enfants[0].prenoms, "Élise");
        assert_eq!(shown.files.len(), 1);
        assert_eq!(shown.files[0].size, 13);
        let labels: Vec<&str> = shown.history.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels.len(), 2, "{labels:?}");
        let quotient = shown.row.quotient.as_ref().unwrap();
        assert_eq!((quotient.valeur, quotient.mois), (Some(512), Some(10)));
        // A decided dossier stays decided when opened again.
        store
            .write(|tx| {
                dossiers::mark_decided(tx, helene, Statut::Traite, None, Timestamp::UNIX_EPOCH)
            })
            .unwrap();
        let again = open(&store, helene, &reader, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(again.row.statut, Statut::Traite);
        assert!(!again.closable);
        // Each opening is in the access journal, with the reference and not the family's name.
        let rows = store
            .read(|c| journal::list(c, &journal::Filter::default(), &jiff::tz::TimeZone::UTC, 10))
            .unwrap();
        assert_eq!(rows.len(), 2);
        for row in &rows {
            assert_eq!(row.action, journal::Action::DossierOuvert);
            assert_eq!(row.agent, "Agent");
            assert_eq!(row.reference.as_deref(), Some("00000000CASE1"));
        }
        assert!(store.read(journal::verify).unwrap().intact);
    }

    #[test]
    fn a_file_for_the_viewer_never_leaves_its_folder() {
        let (dir, store, commune) = setup();
        let helene = receive(&store, commune, "case1", HELENE, 0);
        let file_id = store.read(|c| detail(c, helene)).unwrap().files[0].id;
        let content = store.read(|c| file(c, file_id)).unwrap();
        let viewer = dir.path().join(VIEWER_FOLDER);
        let path = write_for_viewer(&viewer, Some("../../x"), &content).unwrap();
        assert_eq!(path.parent().unwrap(), viewer);
        assert_eq!(
            path.file_name().unwrap().to_string_lossy(),
            "_.._x-FormulaireQF.pdf"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.7 test");
        clear_viewer_dir(&viewer);
        assert!(!path.exists());
        assert_eq!(
            store.read(|c| file(c, 9999)).unwrap_err().code,
            Code::NotFound
        );
    }
}
