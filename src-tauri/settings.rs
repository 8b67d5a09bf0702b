//! Installation-wide settings an administrator can change.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::store::{self, Store};

/// Minutes without activity before the desk locks, unless changed (users-and-peers R15).
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

const IDLE_LOCK_KEY: &str = "idle_lock_minutes";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    pub idle_lock_minutes: u32,
}

pub fn get(conn: &Connection) -> Result<Settings> {
    let idle_lock_minutes = store::setting(conn, IDLE_LOCK_KEY)?
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_IDLE_LOCK_MINUTES);
    Ok(Settings { idle_lock_minutes })
}

pub fn update(store: &Store, settings: &Settings) -> Result<Settings> {
    if !(1..=240).contains(&settings.idle_lock_minutes) {
        return Err(Error::validation(
            "Le délai de verrouillage doit être compris entre 1 et 240 minutes.",
        ));
    }
    store.write(|tx| {
        store::set_setting(tx, IDLE_LOCK_KEY, &settings.idle_lock_minutes.to_string())?;
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
        assert_eq!(store.read(get).unwrap().idle_lock_minutes, 10);
        for bad in [0, 241] {
            assert!(update(
                &store,
                &Settings {
                    idle_lock_minutes: bad
                }
            )
            .is_err());
        }
        update(
            &store,
            &Settings {
                idle_lock_minutes: 3,
            },
        )
        .unwrap();
        assert_eq!(store.read(get).unwrap().idle_lock_minutes, 3);
    }
}
