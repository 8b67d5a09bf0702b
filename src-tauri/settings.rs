//! Installation-wide settings an administrator can change.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::particulier::limiter;
use crate::store::{self, Store};

/// Minutes without activity before the desk locks, unless changed (users-and-peers R15).
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

/// Minutes between two automatic Hubee passes while the window is open, unless changed.
pub const DEFAULT_SYNC_INTERVAL_MINUTES: u32 = 10;

const IDLE_LOCK_KEY: &str = "idle_lock_minutes";
const SYNC_INTERVAL_KEY: &str = "sync_interval_minutes";
const PARTICULIER_RATE_KEY: &str = "particulier_requests_per_second";
const CLOSE_IN_FAMILY_KEY: &str = "close_dossiers_in_family";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    pub idle_lock_minutes: u32,
    /// How often the open window asks Hubee for new dossiers. Hubee keeps them until they are
    /// pulled, so a longer interval delays dossiers but never loses one.
    pub sync_interval_minutes: u32,
    /// The most API Particulier calls per second per token, every caller of the installation
    /// together (counter lookups, later the batch refresh). The server allows 20 and bans the
    /// IP for 12 hours when its 429s are ignored, so the ceiling keeps a margin.
    pub particulier_requests_per_second: u32,
    /// Marks a dossier "traité" on Hubee once its QF is in the family file, without an agent
    /// (issue 4). Off unless an administrator turns it on: Hubee cannot undo "traité".
    pub close_dossiers_in_family: bool,
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
        particulier_requests_per_second: number(PARTICULIER_RATE_KEY, limiter::DEFAULT_RATE)?,
        close_dossiers_in_family: store::setting(conn, CLOSE_IN_FAMILY_KEY)?.as_deref()
            == Some("1"),
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
    if !(1..=limiter::MAX_RATE).contains(&settings.particulier_requests_per_second) {
        return Err(Error::validation(format!(
            "Le débit des appels à API Particulier doit être compris entre 1 et {} appels par \
             seconde : API Particulier en accepte 20 au plus et bloque le poste 12 heures au-delà.",
            limiter::MAX_RATE
        )));
    }
    store.write(|tx| {
        store::set_setting(tx, IDLE_LOCK_KEY, &settings.idle_lock_minutes.to_string())?;
        store::set_setting(
            tx,
            SYNC_INTERVAL_KEY,
            &settings.sync_interval_minutes.to_string(),
        )?;
        store::set_setting(
            tx,
            PARTICULIER_RATE_KEY,
            &settings.particulier_requests_per_second.to_string(),
        )?;
        store::set_setting(
            tx,
            CLOSE_IN_FAMILY_KEY,
            if settings.close_dossiers_in_family {
                "1"
            } else {
                "0"
            },
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
        assert_eq!(defaults.particulier_requests_per_second, 10);
        assert!(!defaults.close_dossiers_in_family);
        for (idle, interval, rate) in [
            (0, 10, 10),
            (241, 10, 10),
            (10, 0, 10),
            (10, 1441, 10),
            (10, 10, 0),
            (10, 10, 19),
        ] {
            let bad = Settings {
                idle_lock_minutes: idle,
                sync_interval_minutes: interval,
                particulier_requests_per_second: rate,
                close_dossiers_in_family: true,
            };
            assert!(update(&store, &bad).is_err());
            assert_eq!(store.read(get).unwrap(), defaults);
        }
        update(
            &store,
            &Settings {
                idle_lock_minutes: 3,
                sync_interval_minutes: 60,
                particulier_requests_per_second: 18,
                close_dossiers_in_family: true,
            },
        )
        .unwrap();
        let saved = store.read(get).unwrap();
        assert_eq!(
            (
                saved.idle_lock_minutes,
                saved.sync_interval_minutes,
                saved.particulier_requests_per_second,
                saved.close_dossiers_in_family
            ),
            (3, 60, 18, true)
        );
    }
}
