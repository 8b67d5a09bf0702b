//! A commune's Hubee client, built from what the installation knows: the commune's service URLs
//! and its credentials in the vault. The window's poller and the CLI both connect through here,
//! so a missing credential reads the same everywhere.

use crate::communes::Commune;
use crate::endpoints::ServiceUrls;
use crate::error::{Code, Error, Result};
use crate::hubee::{ClientConfig, Clock, HubeeClient, RetryPolicy, SoftwareIdentity, Timeouts};
use crate::network::Network;
use crate::store::Store;
use crate::vault::{self, DataKey, SecretKind};

/// How Guichet QF names itself to Hubee (`editorName`, `applicationName`, `softwareVersion`).
pub fn software_identity() -> SoftwareIdentity {
    SoftwareIdentity {
        editor_name: "Guichet QF".into(),
        application_name: "Guichet QF".into(),
        software_version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// The Hubee client of `commune`, with its credentials from the vault.
pub fn client_for(
    store: &Store,
    key: &DataKey,
    network: &Network,
    commune: &Commune,
    urls: &ServiceUrls,
    clock: Clock,
) -> Result<HubeeClient> {
    let missing = || {
        Error::new(
            Code::NotFound,
            format!(
                "Les identifiants Hubee de {} ne sont pas configurés : renseignez l'identifiant \
                 client et la clé secrète dans Paramètres › Secrets (ou « guichet-qf secret set \
                 hubee-client-id » et « hubee-client-secret »).",
                commune.name
            ),
        )
    };
    let client_id =
        vault::get(store, key, commune.id, SecretKind::HubeeClientId)?.ok_or_else(missing)?;
    let client_secret =
        vault::get(store, key, commune.id, SecretKind::HubeeClientSecret)?.ok_or_else(missing)?;
    use vault::ExposeSecret;
    HubeeClient::new(ClientConfig {
        token_url: urls.hubee_auth_url.clone(),
        api_url: urls.hubee_api_url.clone(),
        client_id: client_id.expose_secret().to_string(),
        client_secret,
        identity: software_identity(),
        timeouts: Timeouts::default(),
        retry: RetryPolicy::default(),
        clock,
        network: network.clone(),
    })
}

/// Whether `commune` has both Hubee credentials, without opening the vault.
pub fn has_credentials(store: &Store, commune: &Commune) -> Result<bool> {
    let statuses = store.read(|conn| vault::statuses(conn, commune.id))?;
    Ok(statuses
        .iter()
        .any(|s| s.kind == SecretKind::HubeeClientId && s.configured_at.is_some())
        && statuses
            .iter()
            .any(|s| s.kind == SecretKind::HubeeClientSecret && s.configured_at.is_some()))
}
