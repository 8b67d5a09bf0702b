//! What the domain modules' unit tests start from, written once: a fresh database in a
//! temporary folder with one commune (Majastres, on the simulators).

use jiff::Timestamp;

use crate::communes::{add, Environment, NewCommune};
use crate::store::{open, Store, DATABASE_FILE};

/// A new store with the commune of Majastres; returns the folder (delete on drop), the store
/// and the commune's id.
pub(crate) fn store_with_commune() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join(DATABASE_FILE)).unwrap();
    let commune = add(
        &store,
        &NewCommune {
            siret: "21040107100019".into(),
            name: "Majastres".into(),
            cog: "04107".into(),
            environment: Environment::Simulateur,
        },
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    (dir, store, commune.id)
}
