//! Installation-wide settings an administrator can change.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::store::{self, Store};

/// Minutes without activity before the desk locks, unless changed (users-and-peers R15).
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

/// Minutes between two automatic Hubee passes while the window is open, unless changed.
pub const DEFAULT_SYNC_INTERVAL_MINUTES: u32 = 10;

const IDLE_LOCK_KEY: &str = "idle_lock_minutes";
const SYNC_INTERVAL_KEY: &str = "sync_interval_minutes";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    pub idle_lock_minutes: u32,
    /// How often the open window asks Hubee for new dossiers. Hubee keeps them until they are
    /// pulled, so a longer interval delays dossiers but never loses one.
    pub sync_interval_minutes: u32,
}

pub fn get(conn: &Connection) -> Result<Settings> {
    let number = |key: &str, default: u32| -> Result<u32> {
        Ok(store::setting(conn, key)?
            .and_then(|value| value.parse().ok())
            .unwrap_or(default))
    };
    Ok(Settings {
        idle_lock_minutes: number(IDLE_LOCK_KEY, DEFAULT_IDLE_LOCK_MINUTES)?,
        sync_interval_minutes: number(SYNC_INTERVAL_KEY, DEFAULT_SYNC_INTERVAL_MINUTES)?,
    })
}

pub fn update(store: &Store, settings: &Settings) -> Result<Settings> {
    if !(1..=240).contains(&settings.idle_lock_minutes) {
        return Err(Error::validation(
            "Le délai de verrouillage doit être compris entre 1 et 240 minutes.",
        ));
    }
    if !(1..=1440).contains(&settings.sync_interval_minutes) {
        return Err(Error::validation(
            "L'intervalle entre deux relevés Hubee doit être compris entre 1 et 1 440 minutes \
             (24 heures).",
        ));
    }
    store.write(|tx| {
        store::set_setting(tx, IDLE_LOCK_KEY, &settings.idle_lock_minutes.to_string())?;
        store::set_setting(
            tx,
            SYNC_INTERVAL_KEY,
            &settings.sync_interval_minutes.to_string(),
        )?;
        get(tx)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::open(&dir.path().join(store::DATABASE_FILE)).unwrap();
        let defaults = store.read(get).unwrap();
        assert_eq!(defaults.idle_lock_minutes, 10);
        assert_eq!(defaults.sync_interval_minutes, 10);
        for (idle, interval) in [(0, 10), (241, 10), (10, 0), (10, 1441)] {
            let bad = Settings {
                idle_lock_minutes: idle,
                sync_interval_minutes: interval,
            };
            assert!(update(&store, &bad).is_err());
            assert_eq!(store.read(get).unwrap(), defaults);
        }
        update(
            &store,
            &Settings {
                idle_lock_minutes: 3,
                sync_interval_minutes: 60,
            },
        )
        .unwrap();
        let saved = store.read(get).unwrap();
        assert_eq!(
            (saved.idle_lock_minutes, saved.sync_interval_minutes),
            (3, 60)
        );
    }
}
