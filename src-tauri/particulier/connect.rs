//! A commune's API Particulier client, built from what the installation knows: its token in
//! the vault and the URL of its environment. The window (counter, token guardian) and the CLI
//! connect through here, so a missing token reads the same everywhere and every caller of a
//! token shares its one rate limiter.

use super::client::Clock;
use super::{limiter, ClientConfig, ParticulierClient};
use crate::communes::Commune;
use crate::error::{Code, Error, Result};
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

/// The counter's client for `token` at `base_url`, with the token's shared rate limiter.
pub fn counter_client(
    base_url: String,
    token: SecretString,
    clock: Clock,
) -> Result<ParticulierClient> {
    let limiter = limiter::shared(&token, limiter::DEFAULT_RATE);
    ParticulierClient::new(ClientConfig::counter(base_url, token, limiter, clock))
}
