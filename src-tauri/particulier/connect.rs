//! A commune's API Particulier client, built from what the installation knows: its token in
//! the vault and the URL of its environment. The window (counter, token guardian) and the CLI
//! connect through here, so a missing token reads the same everywhere and every caller of a
//! token shares its one rate limiter.

use super::client::Clock;
use super::{limiter, ClientConfig, ParticulierClient};
use crate::communes::Commune;
use crate::error::{Code, Error, Result};
use crate::network::Network;
use crate::store::Store;
use crate::vault::{self, DataKey, SecretKind, SecretString};

/// The commune's token, or a French message saying who must save it.
pub fn token_of(store: &Store, key: &DataKey, commune: &Commune) -> Result<SecretString> {
    vault::get(store, key, commune.id, SecretKind::ParticulierToken)?
        .ok_or_else(|| missing_token(commune))
}

/// What the agent reads when the commune has no token (or no vault yet).
pub fn missing_token(commune: &Commune) -> Error {
    Error::new(
        Code::NotFound,
        format!(
            "Le jeton API Particulier de {} n'est pas configuré : un administrateur doit \
             l'enregistrer dans Paramètres › Secrets (ou « guichet-qf secret set \
             particulier-token »).",
            commune.name
        ),
    )
}

/// The counter's client for `token` at `base_url`, with the token's shared rate limiter at
/// the installation's configured rate ([`crate::settings::Settings`]).
pub fn counter_client(
    store: &Store,
    network: &Network,
    base_url: String,
    token: SecretString,
    clock: Clock,
) -> Result<ParticulierClient> {
    let rate = store
        .read(crate::settings::get)?
        .particulier_requests_per_second;
    let limiter = limiter::shared(&token, rate);
    let mut config = ClientConfig::counter(base_url, token, limiter, clock);
    config.network = network.clone();
    ParticulierClient::new(config)
}

/// The refresh batch's client: the same token, the same shared limiter at the configured rate
/// as the counter, but the patience of a batch (a minute in the limiter's queue or behind a
/// 429, five replays of a 429) since nobody waits at the desk.
pub fn batch_client(
    store: &Store,
    network: &Network,
    base_url: String,
    token: SecretString,
    clock: Clock,
) -> Result<ParticulierClient> {
    let rate = configured_rate(store)?;
    let limiter = limiter::shared(&token, rate);
    let mut config = ClientConfig::counter(base_url, token, limiter, clock);
    config.max_wait = std::time::Duration::from_secs(60);
    config.rate_limit_retries = 5;
    config.network = network.clone();
    ParticulierClient::new(config)
}

/// The installation's rate for API Particulier calls ([`crate::settings::Settings`]).
pub fn configured_rate(store: &Store) -> Result<u32> {
    Ok(store
        .read(crate::settings::get)?
        .particulier_requests_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{self, Settings};

    #[test]
    fn the_client_takes_the_configured_rate_and_shares_it_with_the_tokens_other_callers() {
        let (_dir, store, _) = crate::fixtures::store_with_commune();
        let clock: Clock = std::sync::Arc::new(jiff::Timestamp::now);
        let token = || SecretString::from("jeton-du-test-de-debit".to_string());
        let first = counter_client(
            &store,
            &Network::direct(),
            "http://127.0.0.1:9".into(),
            token(),
            clock.clone(),
        )
        .unwrap();
        assert_eq!(first.rate(), limiter::DEFAULT_RATE);
        settings::update(
            &store,
            &Settings {
                particulier_requests_per_second: 4,
                ..store.read(settings::get).unwrap()
            },
        )
        .unwrap();
        let second = counter_client(
            &store,
            &Network::direct(),
            "http://127.0.0.1:9".into(),
            token(),
            clock,
        )
        .unwrap();
        assert_eq!(second.rate(), 4);
        assert_eq!(
            first.rate(),
            4,
            "one budget per token, at the latest setting"
        );
    }
}
