//! Backups of the database, and the way back from a damaged file.
//!
//! Town-hall PCs are rarely backed up, so the app backs itself up: once a day
//! ([`create_daily_if_due`]), before anything is deleted or replaced ([`BackupKind::Safety`]),
//! and on request. Copies are made with SQLite's online backup API, so they are consistent even
//! while the app writes, and written under a temporary name then renamed, so a crash never leaves
//! a half-written file that looks like a backup. The last [`KEEP`] of each kind are kept.
//!
//! Restoring never destroys the current data: a live database is first backed up itself; a
//! damaged file is renamed aside (`….endommage-<date>`), never deleted.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;
use ts_rs::TS;

use super::{Store, DATABASE_FILE};
use crate::error::{Code, Error, Result};

/// Backups kept per kind.
pub const KEEP: usize = 14;

const PREFIX: &str = "guichet-qf-";
const SUFFIX: &str = ".sqlite3";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// Why a backup was made; each kind has its own retention so that a day of deletions cannot push
/// the daily backups out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BackupKind {
    /// The daily backup.
    Auto,
    /// Taken just before a deletion or a restore.
    Safety,
    /// Asked for by an agent.
    Manual,
}

impl BackupKind {
    fn tag(self) -> &'static str {
        match self {
            BackupKind::Auto => "auto",
            BackupKind::Safety => "securite",
            BackupKind::Manual => "manuelle",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        [BackupKind::Auto, BackupKind::Safety, BackupKind::Manual]
            .into_iter()
            .find(|kind| kind.tag() == tag)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BackupInfo {
    /// The file name, which is also the backup's identifier.
    pub name: String,
    #[ts(type = "string")]
    pub created_at: Timestamp,
    pub kind: BackupKind,
    #[ts(type = "number")]
    pub size_bytes: u64,
}

/// The backups folder next to a database file.
pub fn dir_for(database: &Path) -> PathBuf {
    database
        .parent()
        .map(|parent| parent.join("backups"))
        .unwrap_or_else(|| PathBuf::from("backups"))
}

/// Copies the live database into a new backup file.
pub fn create(store: &Store, kind: BackupKind, now: Timestamp) -> Result<BackupInfo> {
    let dir = store.backups_dir();
    std::fs::create_dir_all(&dir)?;
    let stamp = now.strftime(STAMP).to_string();
    let mut name = format!("{PREFIX}{stamp}-{}{SUFFIX}", kind.tag());
    let mut attempt = 2;
    while dir.join(&name).exists() {
        name = format!("{PREFIX}{stamp}-{}-{attempt}{SUFFIX}", kind.tag());
        attempt += 1;
    }
    let partial = dir.join(format!("{name}.partiel"));
    let result = store.with_connection_mut(|conn| {
        conn.backup(
            rusqlite::MAIN_DB,
            &partial,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .map_err(Error::from)
    });
    // The copy inherits WAL mode; switch it to a rollback journal so that the backup is one
    // self-contained file and inspecting it later never creates `-wal`/`-shm` files beside it.
    let result = result.and_then(|()| {
        let copy = rusqlite::Connection::open(&partial)?;
        copy.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    });
    if let Err(error) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::new(
            Code::Storage,
            "La sauvegarde n'a pas pu être écrite (disque plein ou dossier protégé ?). Rien n'a \
             été modifié.",
        )
        .with_source(error));
    }
    std::fs::rename(&partial, dir.join(&name))?;
    prune(&dir, kind)?;
    let size_bytes = std::fs::metadata(dir.join(&name))?.len();
    tracing::info!(backup = %name, "backup written");
    Ok(BackupInfo {
        name,
        created_at: now,
        kind,
        size_bytes,
    })
}

/// Makes the daily backup unless one was made in the last 24 hours.
pub fn create_daily_if_due(store: &Store, now: Timestamp) -> Result<Option<BackupInfo>> {
    let newest_auto = list_in(&store.backups_dir())?
        .into_iter()
        .find(|backup| backup.kind == BackupKind::Auto);
    let due = match newest_auto {
        None => true,
        Some(backup) => {
            now.duration_since(backup.created_at) >= jiff::SignedDuration::from_hours(24)
        }
    };
    if due {
        create(store, BackupKind::Auto, now).map(Some)
    } else {
        Ok(None)
    }
}

/// The backups of `store`, newest first.
pub fn list(store: &Store) -> Result<Vec<BackupInfo>> {
    list_in(&store.backups_dir())
}

/// The backups in `dir`, newest first; files that are not backups are ignored.
pub fn list_in(dir: &Path) -> Result<Vec<BackupInfo>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((created_at, kind)) = parse_name(&name) {
            backups.push(BackupInfo {
                name,
                created_at,
                kind,
                size_bytes: entry.metadata()?.len(),
            });
        }
    }
    backups.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    Ok(backups)
}

fn parse_name(name: &str) -> Option<(Timestamp, BackupKind)> {
    let core = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (stamp, rest) = core.split_once('-')?;
    let tag = rest.split('-').next()?;
    let kind = BackupKind::from_tag(tag)?;
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", stamp).ok()?;
    let created_at = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some((created_at, kind))
}

fn prune(dir: &Path, kind: BackupKind) -> Result<()> {
    let surplus = list_in(dir)?
        .into_iter()
        .filter(|backup| backup.kind == kind)
        .skip(KEEP);
    for backup in surplus {
        std::fs::remove_file(dir.join(&backup.name))?;
    }
    Ok(())
}

/// Finds a backup by name among the listed ones (a name can never point outside the folder).
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    list_in(dir)?
        .into_iter()
        .find(|backup| backup.name == name)
        .map(|backup| dir.join(backup.name))
        .ok_or_else(|| {
            Error::new(
                Code::NotFound,
                format!(
                    "La sauvegarde « {name} » est introuvable dans le dossier des sauvegardes."
                ),
            )
        })
}

/// Checks that a backup is itself usable before anything is replaced by it.
fn check_backup(path: &Path) -> Result<()> {
    super::inspect(path)
        .map(|_| ())
        .map_err(|error| match error.code {
            Code::DatabaseTooNew => error,
            _ => Error::new(
                Code::DatabaseCorrupted,
                "Cette sauvegarde est elle-même illisible ou endommagée. Choisissez-en une autre.",
            )
            .with_source(error),
        })
}

/// Replaces the live database's content with a backup, after backing up the current content.
/// Returns the safety backup made first.
pub fn restore(store: &Store, name: &str, now: Timestamp) -> Result<BackupInfo> {
    let source = find(&store.backups_dir(), name)?;
    check_backup(&source)?;
    let safety = create(store, BackupKind::Safety, now)?;
    store.with_connection_mut(|conn| {
        conn.restore(
            rusqlite::MAIN_DB,
            &source,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        // The backup may predate the current schema.
        super::configure(conn)?;
        super::migrate(conn)
    })?;
    tracing::info!(backup = %name, safety = %safety.name, "backup restored");
    Ok(safety)
}

/// Restores a backup when the database itself cannot be opened: the damaged file (and its WAL)
/// is renamed aside, never deleted, and the backup copied in its place.
pub fn restore_over_damaged(data_dir: &Path, name: &str, now: Timestamp) -> Result<Store> {
    let database = data_dir.join(DATABASE_FILE);
    let source = find(&dir_for(&database), name)?;
    check_backup(&source)?;
    let stamp = now.strftime(STAMP).to_string();
    for suffix in ["", "-wal", "-shm"] {
        let file = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
        if file.exists() {
            let aside = data_dir.join(format!("{DATABASE_FILE}{suffix}.endommage-{stamp}"));
            std::fs::rename(&file, aside)?;
        }
    }
    std::fs::copy(&source, &database)?;
    tracing::info!(backup = %name, "backup restored over a damaged database");
    super::open(&database)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open, set_setting, setting};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + seconds).unwrap()
    }

    #[test]
    fn daily_backup_once_per_24_hours_and_last_14_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        assert!(create_daily_if_due(&store, at(0)).unwrap().is_some());
        assert!(create_daily_if_due(&store, at(3600)).unwrap().is_none());
        for day in 1..=20 {
            assert!(create_daily_if_due(&store, at(day * 86_400))
                .unwrap()
                .is_some());
        }
        let safety = create(&store, BackupKind::Safety, at(21 * 86_400)).unwrap();
        let backups = list(&store).unwrap();
        let autos: Vec<_> = backups
            .iter()
            .filter(|b| b.kind == BackupKind::Auto)
            .collect();
        assert_eq!(autos.len(), KEEP);
        assert_eq!(autos[0].created_at, at(20 * 86_400), "newest first");
        assert_eq!(backups[0], safety);
        assert!(backups.iter().all(|b| b.size_bytes > 0));
    }

    #[test]
    fn restore_brings_back_the_data_and_keeps_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        store.write(|tx| set_setting(tx, "k", "avant")).unwrap();
        let before = create(&store, BackupKind::Manual, at(0)).unwrap();
        store.write(|tx| set_setting(tx, "k", "après")).unwrap();

        let safety = restore(&store, &before.name, at(60)).unwrap();
        assert_eq!(safety.kind, BackupKind::Safety);
        assert_eq!(
            store.read(|c| setting(c, "k")).unwrap().as_deref(),
            Some("avant")
        );

        // The replaced content is itself restorable.
        restore(&store, &safety.name, at(120)).unwrap();
        assert_eq!(
            store.read(|c| setting(c, "k")).unwrap().as_deref(),
            Some("après")
        );
    }

    #[test]
    fn restore_refuses_unknown_names_and_path_tricks() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        for name in ["inconnue.sqlite3", "../guichet-qf.sqlite3", "/etc/passwd"] {
            assert_eq!(
                restore(&store, name, at(0)).unwrap_err().code,
                Code::NotFound
            );
        }
    }

    #[test]
    fn a_damaged_database_is_set_aside_and_replaced_by_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join(DATABASE_FILE);
        let backup_name = {
            let store = open(&database).unwrap();
            store.write(|tx| set_setting(tx, "k", "précieux")).unwrap();
            create(&store, BackupKind::Auto, at(0)).unwrap().name
        };
        std::fs::write(&database, b"plus du tout une base SQLite").unwrap();
        assert_eq!(open(&database).unwrap_err().code, Code::DatabaseCorrupted);

        let store = restore_over_damaged(dir.path(), &backup_name, at(60)).unwrap();
        let in_backups: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            in_backups,
            vec![backup_name.clone()],
            "backups stay single files"
        );
        assert_eq!(
            store.read(|c| setting(c, "k")).unwrap().as_deref(),
            Some("précieux")
        );
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".endommage-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(
            std::fs::read(dir.path().join(&aside[0])).unwrap(),
            b"plus du tout une base SQLite"
        );
    }

    #[test]
    fn a_damaged_backup_is_refused_before_anything_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
        let backup = create(&store, BackupKind::Manual, at(0)).unwrap();
        std::fs::write(store.backups_dir().join(&backup.name), vec![7u8; 4096]).unwrap();
        let error = restore(&store, &backup.name, at(60)).unwrap_err();
        assert_eq!(error.code, Code::DatabaseCorrupted);
        assert_eq!(
            list(&store).unwrap().len(),
            1,
            "no safety backup for a refused restore"
        );
    }
}
