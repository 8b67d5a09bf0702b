//! Named agents and their PINs.
//!
//! The formulaire-QF and API Particulier terms require tracing which agent saw a family's data
//! for 36 months, so each person at the desk has a name and a PIN; there is no shared login on
//! the QF screens. A PIN is short by nature, so it is stored as an Argon2id hash (a copied
//! database does not hand out PINs cheaply) and the desk is protected from guessing by a lockout:
//! after [`MAX_FAILED_ATTEMPTS`] wrong PINs the agent waits [`LOCKOUT_MINUTES`] minutes.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::store::Store;

pub const MAX_FAILED_ATTEMPTS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    /// Works at the counter: looks families up, handles dossiers.
    Agent,
    /// Also manages communes, agents, secrets and settings.
    Administrateur,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Administrateur => "administrateur",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Agent {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

/// An agent as typed in the form. The PIN never appears in `Debug` output (logs).
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct NewAgent {
    pub name: String,
    pub role: Role,
    pub pin: String,
}

impl std::fmt::Debug for NewAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAgent")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pin", &"[masqué]")
            .finish()
    }
}

fn clean_name(name: &str) -> Result<(String, String)> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Error::validation("Le nom de l'agent est obligatoire."));
    }
    if name.chars().count() > 60 {
        return Err(Error::validation(
            "Le nom de l'agent est trop long (60 caractères au plus).",
        ));
    }
    let key = crate::text::fold(&name);
    Ok((name, key))
}

fn check_pin(pin: &str) -> Result<()> {
    let length = pin.chars().count();
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::validation(
            "Le code PIN ne doit contenir que des chiffres.",
        ));
    }
    if !(4..=8).contains(&length) {
        return Err(Error::validation(format!(
            "Le code PIN doit comporter de 4 à 8 chiffres ; vous en avez saisi {length}."
        )));
    }
    Ok(())
}

fn hash_pin(pin: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| Error::new(Code::Internal, "Le code PIN n'a pas pu être protégé."))
}

fn pin_matches(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

const COLUMNS: &str = "id, name, role, active";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let role: String = row.get(2)?;
    Ok(Agent {
        id: row.get(0)?,
        name: row.get(1)?,
        role: if role == "administrateur" {
            Role::Administrateur
        } else {
            Role::Agent
        },
        active: row.get(3)?,
    })
}

/// Checks an agent's name and PIN as typed, without saving them.
pub fn check(input: &NewAgent) -> Result<()> {
    clean_name(&input.name)?;
    check_pin(&input.pin)
}

pub fn add(store: &Store, input: &NewAgent, now: Timestamp) -> Result<Agent> {
    let (name, key) = clean_name(&input.name)?;
    check_pin(&input.pin)?;
    // Hashing takes tens of milliseconds: do it before taking the write lock.
    let hash = hash_pin(&input.pin)?;
    store.write(|tx| insert(tx, &name, &key, input.role, &hash, now))
}

/// Inserts inside a caller's transaction (first-run setup).
pub(crate) fn add_in(conn: &Connection, input: &NewAgent, now: Timestamp) -> Result<Agent> {
    let (name, key) = clean_name(&input.name)?;
    check_pin(&input.pin)?;
    insert(conn, &name, &key, input.role, &hash_pin(&input.pin)?, now)
}

fn insert(
    conn: &Connection,
    name: &str,
    key: &str,
    role: Role,
    hash: &str,
    now: Timestamp,
) -> Result<Agent> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM agents WHERE name_key = ?1)",
        [key],
        |row| row.get(0),
    )?;
    if exists {
        return Err(Error::new(
            Code::Conflict,
            format!("Un agent s'appelle déjà « {name} ». Ajoutez l'initiale du nom pour les distinguer."),
        ));
    }
    conn.execute(
        "INSERT INTO agents (name, name_key, role, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![name, key, role.as_str(), hash, now.to_string()],
    )?;
    get(conn, conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> Result<Agent> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Cet agent n'existe pas."))
}

pub fn list(conn: &Connection) -> Result<Vec<Agent>> {
    // `name_key` is folded (no accents, lower case), so this order is alphabetical for people.
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM agents ORDER BY active DESC, name_key"
    ))?;
    let agents = statement
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(agents)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM agents", [], |row| row.get(0))?)
}

/// Deactivates or reactivates an agent; agents are never deleted, since the access journal names
/// them. The last active administrator cannot be deactivated, or nobody could manage the app.
pub fn set_active(store: &Store, id: i64, active: bool) -> Result<Agent> {
    store.write(|tx| {
        let agent = get(tx, id)?;
        if !active && agent.role == Role::Administrateur && agent.active {
            let administrators: i64 = tx.query_row(
                "SELECT count(*) FROM agents WHERE role = 'administrateur' AND active = 1",
                [],
                |row| row.get(0),
            )?;
            if administrators <= 1 {
                return Err(Error::validation(
                    "C'est le dernier administrateur actif : nommez d'abord un autre \
                     administrateur avant de désactiver celui-ci.",
                ));
            }
        }
        tx.execute(
            "UPDATE agents SET active = ?1 WHERE id = ?2",
            rusqlite::params![active, id],
        )?;
        get(tx, id)
    })
}

pub fn change_pin(store: &Store, id: i64, pin: &str) -> Result<Agent> {
    check_pin(pin)?;
    let hash = hash_pin(pin)?;
    store.write(|tx| {
        get(tx, id)?;
        tx.execute(
            "UPDATE agents SET pin_hash = ?1, failed_attempts = 0, blocked_until = NULL WHERE id = ?2",
            rusqlite::params![hash, id],
        )?;
        get(tx, id)
    })
}

/// Checks an agent's PIN at the desk, counting failures toward the lockout.
pub fn verify_pin(store: &Store, id: i64, pin: &str, now: Timestamp) -> Result<Agent> {
    let (agent, hash, blocked_until) = store.read(|conn| {
        let agent = get(conn, id)?;
        let (hash, blocked_until): (String, Option<String>) = conn.query_row(
            "SELECT pin_hash, blocked_until FROM agents WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((agent, hash, blocked_until))
    })?;
    if !agent.active {
        return Err(Error::new(
            Code::Forbidden,
            "Cet agent a été désactivé. Un administrateur peut le réactiver dans Paramètres.",
        ));
    }
    let blocked_until = blocked_until.and_then(|text| text.parse::<Timestamp>().ok());
    if let Some(until) = blocked_until.filter(|until| *until > now) {
        return Err(blocked(now, until));
    }
    if pin_matches(pin, &hash) {
        store.write(|tx| {
            tx.execute(
                "UPDATE agents SET failed_attempts = 0, blocked_until = NULL WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })?;
        return Ok(agent);
    }
    let failures = store.write(|tx| {
        tx.execute(
            "UPDATE agents SET failed_attempts = failed_attempts + 1 WHERE id = ?1",
            [id],
        )?;
        let failures: i64 = tx.query_row(
            "SELECT failed_attempts FROM agents WHERE id = ?1",
            [id],
            |row| row.get(0),
        )?;
        if failures >= MAX_FAILED_ATTEMPTS {
            let until = now + SignedDuration::from_mins(LOCKOUT_MINUTES);
            tx.execute(
                "UPDATE agents SET failed_attempts = 0, blocked_until = ?1 WHERE id = ?2",
                rusqlite::params![until.to_string(), id],
            )?;
        }
        Ok(failures)
    })?;
    if failures >= MAX_FAILED_ATTEMPTS {
        return Err(blocked(
            now,
            now + SignedDuration::from_mins(LOCKOUT_MINUTES),
        ));
    }
    let left = MAX_FAILED_ATTEMPTS - failures;
    Err(Error::new(
        Code::WrongPin,
        format!(
            "Code PIN incorrect. Encore {left} essai{} avant un blocage de {LOCKOUT_MINUTES} minutes.",
            if left > 1 { "s" } else { "" }
        ),
    ))
}

fn blocked(now: Timestamp, until: Timestamp) -> Error {
    let minutes = (until.duration_since(now).as_secs() + 59) / 60;
    Error::new(
        Code::AgentBlocked,
        format!(
            "Trop de codes PIN incorrects : cet agent est bloqué pendant encore {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open, DATABASE_FILE};

    fn new_agent(name: &str, role: Role) -> NewAgent {
        NewAgent {
            name: name.into(),
            role,
            pin: "1234".into(),
        }
    }

    #[test]
    fn pins_are_hashed_checked_and_guarded_by_a_lockout() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let agent = add(
            &store,
            &new_agent("Émilie Durand", Role::Administrateur),
            now,
        )
        .unwrap();
        let stored: String = store
            .read(|c| Ok(c.query_row("SELECT pin_hash FROM agents", [], |r| r.get(0))?))
            .unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("1234"));

        assert_eq!(verify_pin(&store, agent.id, "1234", now).unwrap(), agent);
        for attempt in 1..MAX_FAILED_ATTEMPTS {
            let error = verify_pin(&store, agent.id, "0000", now).unwrap_err();
            assert_eq!(error.code, Code::WrongPin, "attempt {attempt}");
        }
        let error = verify_pin(&store, agent.id, "0000", now).unwrap_err();
        assert_eq!(error.code, Code::AgentBlocked);
        // Even the right PIN waits for the end of the lockout.
        let later = now + SignedDuration::from_mins(2);
        assert_eq!(
            verify_pin(&store, agent.id, "1234", later)
                .unwrap_err()
                .code,
            Code::AgentBlocked
        );
        let after = now + SignedDuration::from_mins(LOCKOUT_MINUTES);
        assert!(verify_pin(&store, agent.id, "1234", after).is_ok());
    }

    #[test]
    fn names_are_unique_and_pins_are_digits() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::UNIX_EPOCH;
        add(&store, &new_agent("Émilie", Role::Agent), now).unwrap();
        assert_eq!(
            add(&store, &new_agent(" EMILIE ", Role::Agent), now)
                .unwrap_err()
                .code,
            Code::Conflict
        );
        for (pin, expected) in [
            ("12a4", "que des chiffres"),
            ("123", "de 4 à 8"),
            ("123456789", "de 4 à 8"),
        ] {
            let mut agent = new_agent("Paul", Role::Agent);
            agent.pin = pin.into();
            let error = add(&store, &agent, now).unwrap_err();
            assert!(error.message.contains(expected), "{pin}: {}", error.message);
        }
        assert!(format!("{:?}", new_agent("Paul", Role::Agent)).contains("[masqué]"));
    }

    #[test]
    fn the_last_administrator_stays_active() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::UNIX_EPOCH;
        let admin = add(&store, &new_agent("Admin", Role::Administrateur), now).unwrap();
        let agent = add(&store, &new_agent("Guichet", Role::Agent), now).unwrap();
        assert_eq!(
            set_active(&store, admin.id, false).unwrap_err().code,
            Code::Validation
        );
        assert!(!set_active(&store, agent.id, false).unwrap().active);
        assert_eq!(
            verify_pin(&store, agent.id, "1234", now).unwrap_err().code,
            Code::Forbidden
        );
    }
}
