//! The demonstration mode: the whole app on fictitious data, without any credential.
//!
//! A newcomer must see the real flow (a commune, its Hubee credentials and API Particulier token
//! in the vault, dossiers arriving) before the town hall has obtained anything from the State.
//! So the demonstration runs the simulators' demonstration set in-process and works in its own
//! data directory (`demonstration/` inside the real one): its database, vault, backups and logs
//! are separate files, so demonstration data can never mix with a real commune's.
//!
//! The vault of that database is protected by a fixed, published passphrase: everything in it
//! is fictitious, and the demonstration must not touch the PC's keystore.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::agents::{self, Agent, NewAgent, Role};
use crate::communes::{self, Commune, Environment, NewCommune};
use crate::error::{Code, Error, Result};
use crate::simulators::demo::{self, Demo};
use crate::store::{self, Store};
use crate::vault::{self, DataKey, SecretKind, SecretString};

/// The demonstration's folder inside the real data directory.
pub const FOLDER: &str = "demonstration";
/// The demonstration vault's passphrase (fictitious secrets only).
pub const PASSPHRASE: &str = "demonstration de guichet qf";
pub const AGENT_NAME: &str = "Agent de démonstration";
/// The demonstration agent's PIN, shown on the lock screen's help in demonstration mode.
pub const AGENT_PIN: &str = "0000";

/// A running demonstration: the simulators and the database prepared for them.
pub struct Demonstration {
    pub set: Demo,
    pub store: Store,
    pub commune: Commune,
    pub agent: Agent,
    pub key: DataKey,
}

pub fn data_dir(real_data_dir: &Path) -> PathBuf {
    real_data_dir.join(FOLDER)
}

/// Starts the simulators and prepares the demonstration database for them; the token lives
/// `token_lifetime` from now.
pub async fn start(
    real_data_dir: &Path,
    token_lifetime: jiff::SignedDuration,
    now: Timestamp,
) -> Result<Demonstration> {
    let set = demo::start(demo::Options {
        token_lifetime,
        ..demo::Options::default()
    })
    .await
    .map_err(|error| {
        Error::new(
            Code::Internal,
            "Les simulateurs de la démonstration n'ont pas pu démarrer.",
        )
        .with_source(error)
    })?;
    let store = store::open(&data_dir(real_data_dir).join(store::DATABASE_FILE))?;
    match prepare(&store, &set, now) {
        Ok((commune, agent, key)) => Ok(Demonstration {
            set,
            store,
            commune,
            agent,
            key,
        }),
        Err(error) => {
            set.stop().await;
            Err(error)
        }
    }
}

/// Creates (once) the demonstration commune and agent, then seals this run's credentials: the
/// simulators make new ones at every start.
fn prepare(store: &Store, set: &Demo, now: Timestamp) -> Result<(Commune, Agent, DataKey)> {
    let commune = match store.read(|conn| communes::resolve(conn, Some(demo::DEMO_SIRET))) {
        Ok(commune) => commune,
        Err(error) if error.code == Code::NotFound => communes::add(
            store,
            &NewCommune {
                siret: demo::DEMO_SIRET.into(),
                name: demo::DEMO_NAME.into(),
                cog: demo::DEMO_COG.into(),
                environment: Environment::Simulateur,
            },
            now,
        )?,
        Err(error) => return Err(error),
    };
    let agent = match store
        .read(agents::list)?
        .into_iter()
        .find(|agent| agent.name == AGENT_NAME)
    {
        Some(agent) => agent,
        None => agents::add(
            store,
            &NewAgent {
                name: AGENT_NAME.into(),
                role: Role::Administrateur,
                pin: AGENT_PIN.into(),
            },
            now,
        )?,
    };
    let passphrase = SecretString::from(PASSPHRASE);
    let key = vault::open_or_init(store, &vault::NoKeystore, Some(&passphrase), now)?;
    for (kind, value) in [
        (SecretKind::HubeeClientId, set.credentials.client_id.clone()),
        (
            SecretKind::HubeeClientSecret,
            set.credentials.client_secret.clone(),
        ),
        (SecretKind::ParticulierToken, set.token.clone()),
    ] {
        vault::set(store, &key, commune.id, kind, &value.into(), now)?;
    }
    // The token is new at every start: what the guardian learnt of the previous one is stale.
    store.write(|tx| crate::particulier::token::forget(tx, commune.id))?;
    Ok((commune, agent, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::ExposeSecret;

    #[tokio::test]
    async fn the_demonstration_has_its_own_database_commune_agent_and_credentials() {
        let real = tempfile::tempdir().unwrap();
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let first = start(real.path(), demo::TOKEN_LIFETIME, now).await.unwrap();
        assert_eq!(first.commune.environment, Environment::Simulateur);
        assert_eq!(first.commune.siret, demo::DEMO_SIRET);
        assert!(first.store.path().starts_with(real.path().join(FOLDER)));
        assert!(
            !real.path().join(store::DATABASE_FILE).exists(),
            "the real database is never created by the demonstration"
        );
        let token = vault::get(
            &first.store,
            &first.key,
            first.commune.id,
            SecretKind::ParticulierToken,
        )
        .unwrap()
        .unwrap();
        assert_eq!(token.expose_secret(), first.set.token);
        let first_secret = first.set.credentials.client_secret.clone();
        first.set.stop().await;
        drop(first.store);

        // A second start reuses the commune and agent and seals the new run's credentials.
        let second = start(real.path(), demo::TOKEN_LIFETIME, now).await.unwrap();
        assert_eq!(second.store.read(communes::list).unwrap().len(), 1);
        assert_eq!(second.store.read(agents::list).unwrap().len(), 1);
        let secret = vault::get(
            &second.store,
            &second.key,
            second.commune.id,
            SecretKind::HubeeClientSecret,
        )
        .unwrap()
        .unwrap();
        assert_eq!(secret.expose_secret(), second.set.credentials.client_secret);
        assert_ne!(secret.expose_secret(), first_secret);
        second.set.stop().await;
    }
}
