//! The SQLite store: the only module that opens the database.
//!
//! Opening is careful because the file holds a town hall's families and there is rarely an IT
//! person to call:
//! 1. `PRAGMA user_version` is read **before anything writes**: a database written by a newer
//!    Guichet QF is refused with a French message and left byte-for-byte untouched (switching to
//!    WAL would already rewrite its header).
//! 2. `PRAGMA quick_check` runs at every start; a damaged file is reported as
//!    [`Code::DatabaseCorrupted`] so the shell can offer the way back (restore a backup, see
//!    [`backup`]).
//! 3. Then the connection is configured (WAL, `synchronous=NORMAL`, foreign keys, busy timeout)
//!    and the embedded migrations are applied, all pending ones in **one** transaction together
//!    with the new `user_version`: a crash mid-upgrade leaves the previous schema intact.
//!
//! Migrations are append-only: a released file in `migrations/` is never edited.
//!
//! One connection behind a `std::sync::Mutex`: the app has one desk and a background poller,
//! statements are short, and the lock is never held across an `.await`, so a pool would add
//! file descriptors and no throughput. Writes go through [`Store::write`], a closure run inside
//! `BEGIN IMMEDIATE` that commits on `Ok` and rolls back on `Err`.

pub mod backup;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Code, Error, Result};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "guichet-qf.sqlite3";

/// Embedded migrations; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_dossiers.sql"),
    include_str!("migrations/0003_journal.sql"),
    include_str!("migrations/0004_particulier_tokens.sql"),
    include_str!("migrations/0005_poster_settings.sql"),
    include_str!("migrations/0006_families.sql"),
    include_str!("migrations/0007_refresh.sql"),
    include_str!("migrations/0008_tariffs.sql"),
    include_str!("migrations/0009_retention.sql"),
    include_str!("migrations/0010_rgpd.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Opens (creating if needed) the database at `path`, refusing newer or damaged files.
pub fn open(path: &Path) -> Result<Store> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    check_version(&conn)?;
    check_integrity(&conn)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(Store {
        conn: Mutex::new(conn),
        path: path.to_path_buf(),
    })
}

/// Checks that `path` is a readable Guichet QF database this build can use, without writing to it.
pub fn inspect(path: &Path) -> Result<i64> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let version = check_version(&conn)?;
    check_integrity(&conn)?;
    Ok(version)
}

fn check_version(conn: &Connection) -> Result<i64> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::new(
            Code::DatabaseTooNew,
            format!(
                "Ces données ont été enregistrées par une version plus récente de Guichet QF \
                 (schéma {version}, cette version connaît le schéma {SCHEMA_VERSION}). Installez \
                 la dernière version de Guichet QF. Les données n'ont pas été modifiées."
            ),
        ));
    }
    Ok(version)
}

fn check_integrity(conn: &Connection) -> Result<()> {
    let mut statement = conn.prepare("PRAGMA quick_check")?;
    let findings: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if findings.len() == 1 && findings[0] == "ok" {
        return Ok(());
    }
    Err(Error::new(
        Code::DatabaseCorrupted,
        "Le fichier de la base de données est endommagé. Restaurez la dernière sauvegarde : \
         les données actuelles seront mises de côté, jamais effacées.",
    )
    .with_source(std::io::Error::other(findings.join("; "))))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another Guichet QF process (the CLI) may have migrated
    // between our first read and now.
    let current = check_version(&tx)?;
    for migration in &MIGRATIONS[current as usize..] {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

impl Store {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the OS file lock `name` next to the database, held until the returned file is
    /// dropped; `None` while someone else (this process or another) holds it. The system
    /// releases a lock however its holder ends, so a crash never leaves it taken. The window
    /// and a scheduled command line share these locks to keep a commune's relevé or refresh to
    /// one at a time.
    pub fn try_lock_beside(&self, name: &str) -> Result<Option<std::fs::File>> {
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(name))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => Err(error.into()),
        }
    }

    /// The folder holding this database's backups.
    pub fn backups_dir(&self) -> PathBuf {
        backup::dir_for(&self.path)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the connection, for reads.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: committed if `f` returns `Ok`, rolled back
    /// otherwise. Taking the write lock up front avoids a deadlock-prone upgrade from read to write.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Gives the raw connection to the backup module (backup and restore need `&mut`).
    fn with_connection_mut<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        f(&mut conn)
    }
}

/// Reads a setting, `None` when never set.
pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_database_gets_every_migration_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        let store = open(&path).unwrap();
        let (mode, tables): (String, i64) = store
            .read(|conn| {
                let mode = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
                let tables = conn.query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table'
                     AND name IN ('communes', 'agents', 'vault', 'secrets', 'settings')",
                    [],
                    |row| row.get(0),
                )?;
                Ok((mode, tables))
            })
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(tables, 5);
        drop(store);
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        // Reopening applies nothing twice.
        open(&path).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_database_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let error = open(&path).unwrap_err();
        assert_eq!(error.code, Code::DatabaseTooNew);
        assert!(error.message.contains("version plus récente"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file was modified"
        );
        assert!(!dir.path().join(format!("{DATABASE_FILE}-wal")).exists());
    }

    #[test]
    fn a_failed_migration_rolls_back_to_the_previous_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        // A database that already has a `settings` table but version 0: migration 1 creates
        // four tables, then fails on the fifth, and nothing of it may remain.
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE settings (x INTEGER);")
                .unwrap();
        }
        let error = open(&path).unwrap_err();
        assert_eq!(error.code, Code::Storage);
        let conn = Connection::open(&path).unwrap();
        let agents: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'agents'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(agents, 0, "a partial migration was committed");
        assert_eq!(user_version(&path), 0);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_as_corrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let error = open(&path).unwrap_err();
        assert_eq!(error.code, Code::DatabaseCorrupted);
    }

    #[test]
    fn damage_inside_the_file_is_found_by_the_start_up_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        {
            let store = open(&path).unwrap();
            store
                .write(|tx| {
                    for i in 0..400 {
                        set_setting(tx, &format!("clé {i}"), &"x".repeat(200))?;
                    }
                    Ok(())
                })
                .unwrap();
            // Fold the WAL into the main file so the damage below hits real pages.
            store
                .read(|conn| {
                    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
                    Ok(())
                })
                .unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 8 * 4096, "the table spans several pages");
        // Keep the 100-byte header intact; scribble over pages in the middle.
        for byte in &mut bytes[4096 * 3..4096 * 5] {
            *byte = 0x5A;
        }
        std::fs::write(&path, &bytes).unwrap();
        let error = open(&path).unwrap_err();
        assert_eq!(error.code, Code::DatabaseCorrupted, "{}", error.detail());
    }

    #[test]
    fn write_rolls_back_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let result: Result<()> = store.write(|tx| {
            set_setting(tx, "k", "v")?;
            Err(Error::validation("non"))
        });
        assert!(result.is_err());
        assert_eq!(store.read(|conn| setting(conn, "k")).unwrap(), None);
        store.write(|tx| set_setting(tx, "k", "v")).unwrap();
        assert_eq!(
            store.read(|conn| setting(conn, "k")).unwrap().as_deref(),
            Some("v")
        );
    }
}
