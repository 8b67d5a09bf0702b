//! The first run: the commune, the first agent (an administrator) and the vault's key source,
//! all before the app is usable.

use jiff::Timestamp;
use serde::Deserialize;
use ts_rs::TS;

use crate::agents::{self, Agent, NewAgent, Role};
use crate::communes::{self, Commune, NewCommune};
use crate::error::{Code, Error, Result};
use crate::store::{backup, Store};
use crate::vault::{self, DataKey, Keystore, SecretString};

/// What the first-run wizard sends. The PIN and passphrase never appear in `Debug` output.
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct FirstRun {
    pub commune: NewCommune,
    pub agent_name: String,
    pub pin: String,
    /// Required only when the PC has no keystore.
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for FirstRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstRun")
            .field("commune", &self.commune)
            .field("agent_name", &self.agent_name)
            .finish_non_exhaustive()
    }
}

pub struct FirstRunDone {
    pub commune: Commune,
    pub agent: Agent,
    pub key: DataKey,
}

/// Whether the installation still needs its first run (nobody could open the desk).
pub fn needed(store: &Store) -> Result<bool> {
    Ok(store.read(agents::count)? == 0)
}

/// The daily backup, once the installation holds something worth saving (a commune or an
/// agent): a backup of the empty database would only lead back to the first-run wizard. The
/// window and the command line both call this. A failure is logged, never fatal: the agent's
/// work goes on, and the next attempt comes with the next start or the next hour.
pub fn daily_backup(store: &Store, now: Timestamp) {
    let worth_saving =
        store.read(|conn| Ok(agents::count(conn)? > 0 || !communes::list(conn)?.is_empty()));
    let result = match worth_saving {
        Ok(true) => backup::create_daily_if_due(store, now).map(|_| ()),
        Ok(false) => Ok(()),
        Err(error) => Err(error),
    };
    if let Err(error) = result {
        tracing::warn!(error = %error.detail(), "daily backup failed");
    }
}

/// Creates the commune and the first administrator in one transaction, then sets up the vault.
pub fn complete(
    store: &Store,
    keystore: &dyn Keystore,
    input: FirstRun,
    now: Timestamp,
) -> Result<FirstRunDone> {
    if !needed(store)? {
        return Err(Error::new(
            Code::Conflict,
            "Guichet QF est déjà configuré sur ce poste : ouvrez la session d'un agent.",
        ));
    }
    let passphrase = input
        .passphrase
        .filter(|text| !text.is_empty())
        .map(SecretString::from);
    let keystore_available = keystore.available();
    // Check the passphrase before writing anything, so a refusal leaves the wizard where it was.
    if !keystore_available && passphrase.is_none() {
        return Err(Error::validation(
            "Ce poste n'a pas de trousseau de sécurité : choisissez une phrase de protection \
             des secrets (au moins 10 caractères).",
        ));
    }
    if let Some(phrase) = &passphrase {
        vault::check_passphrase_strength(phrase)?;
    }
    let agent = NewAgent {
        name: input.agent_name,
        role: Role::Administrateur,
        pin: input.pin,
    };
    let (commune, agent) = store.write(|tx| {
        let commune = communes::add_in(tx, &input.commune, now)?;
        let agent = agents::add_in(tx, &agent, now)?;
        Ok((commune, agent))
    })?;
    let key = vault::open_or_init(store, keystore, passphrase.as_ref(), now)?;
    Ok(FirstRunDone {
        commune,
        agent,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communes::Environment;
    use crate::store::DATABASE_FILE;

    #[test]
    fn the_daily_backup_waits_for_something_worth_saving() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::open(&dir.path().join(DATABASE_FILE)).unwrap();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        daily_backup(&store, now);
        assert!(
            backup::list(&store).unwrap().is_empty(),
            "an empty database is not backed up"
        );
        communes::add(
            &store,
            &NewCommune {
                siret: "21040107100019".into(),
                name: "Majastres".into(),
                cog: "04107".into(),
                environment: Environment::Production,
            },
            now,
        )
        .unwrap();
        daily_backup(&store, now);
        let backups = backup::list(&store).unwrap();
        assert_eq!(backups.len(), 1);
        assert_eq!(backups[0].kind, backup::BackupKind::Auto);
    }
}
