//! The first run: the commune, the first agent (an administrator) and the vault's key source,
//! all before the app is usable.

use jiff::Timestamp;
use serde::Deserialize;
use ts_rs::TS;

use crate::agents::{self, Agent, NewAgent, Role};
use crate::communes::{self, Commune, NewCommune};
use crate::error::{Code, Error, Result};
use crate::store::Store;
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
