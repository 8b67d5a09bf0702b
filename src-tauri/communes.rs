//! The communes this installation serves, and which State environment each one talks to.
//!
//! One install often serves several communes (a secretary shared by two to four villages); each
//! has its own SIRET (the API Particulier `recipient` and the Hubee `companyRegister`), its own
//! COG (the Hubee `branchCode`), its own credentials in the vault and its own environment.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::identifiers::{parse_cog, parse_siret};
use crate::store::{backup, Store};

/// Which Hubee and API Particulier a commune talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Environment {
    #[value(name = "production")]
    Production,
    /// The State's test platforms (Hubee `bas`, API Particulier staging).
    #[value(name = "bac-a-sable")]
    BacASable,
    /// The simulators shipped with Guichet QF (demonstration and training).
    #[value(name = "simulateur")]
    Simulateur,
}

impl Environment {
    fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::BacASable => "bac_a_sable",
            Environment::Simulateur => "simulateur",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Environment::Production,
            Environment::BacASable,
            Environment::Simulateur,
        ]
        .into_iter()
        .find(|environment| environment.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::BacASable => "bac à sable",
            Environment::Simulateur => "simulateur",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Commune {
    #[ts(type = "number")]
    pub id: i64,
    pub siret: String,
    pub name: String,
    pub cog: String,
    pub environment: Environment,
    #[ts(type = "string")]
    pub created_at: Timestamp,
}

/// What an agent types to register or edit a commune.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct NewCommune {
    pub siret: String,
    pub name: String,
    pub cog: String,
    pub environment: Environment,
}

/// A commune's input once checked.
struct ValidCommune {
    siret: String,
    name: String,
    cog: String,
    environment: Environment,
}

fn validate(input: &NewCommune) -> Result<ValidCommune> {
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Error::validation("Le nom de la commune est obligatoire."));
    }
    if name.chars().count() > 120 {
        return Err(Error::validation(
            "Le nom de la commune est trop long (120 caractères au plus).",
        ));
    }
    Ok(ValidCommune {
        siret: parse_siret(&input.siret)?,
        name,
        cog: parse_cog(&input.cog)?,
        environment: input.environment,
    })
}

const COLUMNS: &str = "id, siret, name, cog, environment, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Commune> {
    let environment: String = row.get(4)?;
    let created_at: String = row.get(5)?;
    Ok(Commune {
        id: row.get(0)?,
        siret: row.get(1)?,
        name: row.get(2)?,
        cog: row.get(3)?,
        environment: Environment::parse(&environment).unwrap_or(Environment::Production),
        created_at: created_at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
    })
}

fn siret_taken(conn: &Connection, siret: &str, except: Option<i64>) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT name FROM communes WHERE siret = ?1 AND id IS NOT ?2",
            rusqlite::params![siret, except],
            |row| row.get(0),
        )
        .optional()?)
}

fn conflict(siret: &str, other: &str) -> Error {
    Error::new(
        Code::Conflict,
        format!("Le SIRET {siret} est déjà enregistré pour la commune « {other} »."),
    )
}

/// Checks a commune as typed, without saving it (the first-run wizard checks each step).
pub fn check(input: &NewCommune) -> Result<()> {
    validate(input).map(|_| ())
}

pub fn add(store: &Store, input: &NewCommune, now: Timestamp) -> Result<Commune> {
    let valid = validate(input)?;
    store.write(|tx| insert(tx, &valid, now))
}

/// Inserts inside a caller's transaction (the first-run setup creates a commune and an agent
/// atomically).
pub(crate) fn add_in(conn: &Connection, input: &NewCommune, now: Timestamp) -> Result<Commune> {
    insert(conn, &validate(input)?, now)
}

fn insert(conn: &Connection, valid: &ValidCommune, now: Timestamp) -> Result<Commune> {
    if let Some(other) = siret_taken(conn, &valid.siret, None)? {
        return Err(conflict(&valid.siret, &other));
    }
    conn.execute(
        "INSERT INTO communes (siret, name, cog, environment, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            valid.siret,
            valid.name,
            valid.cog,
            valid.environment.as_str(),
            now.to_string()
        ],
    )?;
    get(conn, conn.last_insert_rowid())
}

pub fn update(store: &Store, id: i64, input: &NewCommune) -> Result<Commune> {
    let valid = validate(input)?;
    store.write(|tx| {
        get(tx, id)?;
        if let Some(other) = siret_taken(tx, &valid.siret, Some(id))? {
            return Err(conflict(&valid.siret, &other));
        }
        tx.execute(
            "UPDATE communes SET siret = ?1, name = ?2, cog = ?3, environment = ?4 WHERE id = ?5",
            rusqlite::params![
                valid.siret,
                valid.name,
                valid.cog,
                valid.environment.as_str(),
                id
            ],
        )?;
        get(tx, id)
    })
}

/// Removes a commune and its secrets, after a safety backup. A commune that has received
/// dossiers from Hubee is kept: those dossiers are families' data the town hall must keep.
pub fn delete(store: &Store, id: i64, now: Timestamp) -> Result<()> {
    store.read(|conn| get(conn, id))?;
    let dossiers: i64 = store.read(|conn| {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM dossiers WHERE commune_id = ?1",
            [id],
            |row| row.get(0),
        )?)
    })?;
    if dossiers > 0 {
        return Err(Error::new(
            Code::Conflict,
            format!(
                "Cette commune a reçu {dossiers} dossier(s) de Hubee : elle ne peut pas être \
                 supprimée."
            ),
        ));
    }
    backup::create(store, backup::BackupKind::Safety, now)?;
    store.write(|tx| {
        tx.execute("DELETE FROM communes WHERE id = ?1", [id])?;
        Ok(())
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Commune> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM communes WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Cette commune n'existe plus."))
}

pub fn list(conn: &Connection) -> Result<Vec<Commune>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM communes ORDER BY name, siret"
    ))?;
    let communes = statement
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(communes)
}

/// Finds the commune a command is about: the given SIRET, or the only commune when there is one.
pub fn resolve(conn: &Connection, siret: Option<&str>) -> Result<Commune> {
    let communes = list(conn)?;
    match siret {
        Some(siret) => {
            let siret: String = siret.chars().filter(|c| !c.is_whitespace()).collect();
            communes
                .into_iter()
                .find(|commune| commune.siret == siret)
                .ok_or_else(|| {
                    Error::new(
                        Code::NotFound,
                        format!("Aucune commune n'est enregistrée avec le SIRET {siret}."),
                    )
                })
        }
        None => match communes.len() {
            0 => Err(Error::new(
                Code::NotFound,
                "Aucune commune n'est enregistrée : ajoutez-en une d'abord.",
            )),
            1 => Ok(communes.into_iter().next().expect("one commune")),
            n => Err(Error::validation(format!(
                "{n} communes sont enregistrées : précisez laquelle avec --commune SIRET."
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open, DATABASE_FILE};

    fn majastres() -> NewCommune {
        NewCommune {
            siret: "21040107100019".into(),
            name: "  Majastres ".into(),
            cog: "04107".into(),
            environment: Environment::Production,
        }
    }

    #[test]
    fn add_list_update_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let commune = add(&store, &majastres(), now).unwrap();
        assert_eq!(commune.name, "Majastres");
        assert_eq!(commune.created_at, now);

        let error = add(&store, &majastres(), now).unwrap_err();
        assert_eq!(error.code, Code::Conflict);
        assert!(error.message.contains("Majastres"));

        let mut edited = majastres();
        edited.environment = Environment::BacASable;
        edited.cog = "04 107".into();
        assert_eq!(
            update(&store, commune.id, &edited).unwrap_err().code,
            Code::Validation
        );
        edited.cog = "04107".into();
        let updated = update(&store, commune.id, &edited).unwrap();
        assert_eq!(updated.environment, Environment::BacASable);
        assert_eq!(store.read(list).unwrap(), vec![updated]);

        delete(&store, commune.id, now).unwrap();
        assert!(store.read(list).unwrap().is_empty());
        assert_eq!(
            backup::list(&store).unwrap()[0].kind,
            backup::BackupKind::Safety,
            "a backup precedes the deletion"
        );
    }

    #[test]
    fn a_commune_with_dossiers_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::UNIX_EPOCH;
        let commune = add(&store, &majastres(), now).unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO dossiers (commune_id, case_id, statut, received_at, updated_at)
                     VALUES (?1, 'case-1', 'nouveau', ?2, ?2)",
                    rusqlite::params![commune.id, now.to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        let error = delete(&store, commune.id, now).unwrap_err();
        assert_eq!(error.code, Code::Conflict);
        assert!(error.message.contains("1 dossier"));
        assert!(store.read(|c| get(c, commune.id)).is_ok());
    }

    #[test]
    fn resolve_needs_a_siret_when_several_communes() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            store.read(|c| resolve(c, None)).unwrap_err().code,
            Code::NotFound
        );
        add(&store, &majastres(), now).unwrap();
        assert_eq!(
            store.read(|c| resolve(c, None)).unwrap().siret,
            "21040107100019"
        );
        add(
            &store,
            &NewCommune {
                siret: "21730132400018".into(),
                name: "Hauteluce".into(),
                cog: "73132".into(),
                environment: Environment::Production,
            },
            now,
        )
        .unwrap();
        assert_eq!(
            store.read(|c| resolve(c, None)).unwrap_err().code,
            Code::Validation
        );
        assert_eq!(
            store
                .read(|c| resolve(c, Some("217 301 324 00018")))
                .unwrap()
                .name,
            "Hauteluce"
        );
    }
}
