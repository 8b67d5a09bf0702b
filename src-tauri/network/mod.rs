//! The town hall's network as it is: which proxy the HTTP clients go through, and the one place
//! where a `reqwest::Client` is prepared.
//!
//! Why this module exists (users-and-peers §6, issue 9): many communes reach the internet through
//! a departmental or intercommunal proxy, sometimes one that inspects TLS with its own
//! certificate authority. Every client of the application (Hubee, API Particulier, the check of
//! formulaire-qf's public list) starts from [`Network::client_builder`], so that a proxy chosen
//! in Paramètres applies to all of them, in the window and on the command line alike.
//!
//! - **Trust**: reqwest 0.13 built with `rustls` verifies certificates with
//!   `rustls-platform-verifier`, i.e. the operating system's own verifier and trust store (the
//!   Windows certificate store, the macOS keychain, the system CA bundle on Linux). A proxy's CA
//!   installed in Windows' store by the IT department is therefore trusted, and nothing else is:
//!   no code path ever turns certificate checks off.
//! - **Proxy modes**: `systeme` (the default) lets reqwest read the system settings — the
//!   `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` variables, then Windows' Internet options
//!   (`ProxyEnable`/`ProxyServer`/`ProxyOverride`) or macOS' settings (reqwest's `system-proxy`
//!   feature); `aucun` goes direct; `manuel` names a host and port.
//! - **PAC files** (`pac` mode) are downloaded, kept, and evaluated for each service's address
//!   in a sandboxed JavaScript engine; see [`pac`]. Until a first copy is downloaded, the
//!   system settings apply, and the description says so.
//! - **Proxy account**: in the `manuel` and `pac` modes, an optional account is sent in Basic to
//!   whichever proxy the request goes through (never to a direct connection). Its password is
//!   sealed in the vault ([`crate::vault::InstallationSecret::ProxyPassword`]) and never sent
//!   to the web view.
//!
//! The settings are installation-wide (one network per town hall) and kept as JSON in the
//! `settings` table. The connection test is in [`check`].

pub mod check;
pub mod pac;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::store::{self, Store};
use crate::vault::{self, DataKey, ExposeSecret, InstallationSecret, SecretString};

const NETWORK_KEY: &str = "network";

/// Addresses never sent through a manual proxy.
const LOOPBACK: &str = "localhost,127.0.0.1,::1";

/// Whether `host` is this PC, which the manual proxy leaves out.
pub(crate) fn is_loopback(host: &str) -> bool {
    LOOPBACK
        .split(',')
        .any(|loopback| loopback == host.trim_matches(['[', ']']))
}

/// How the HTTP clients reach the internet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProxyMode {
    /// The operating system's settings (and the proxy variables), as a browser would.
    #[default]
    Systeme,
    /// Direct connections, whatever the system says.
    Aucun,
    /// The proxy named in [`NetworkSettings`].
    Manuel,
    /// A PAC file's address: the file is downloaded, kept and evaluated (see [`pac`]).
    Pac,
}

/// The installation's network settings as the administrator types them. Fields of the other
/// modes are kept so that switching back does not lose them; only the chosen mode's are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NetworkSettings {
    pub mode: ProxyMode,
    /// The proxy's name or IP address, without `http://` or port.
    pub proxy_host: String,
    /// The proxy's port as typed, checked here so that the message names the field.
    pub proxy_port: String,
    /// The proxy account, empty when the proxy asks for none.
    pub proxy_username: String,
    /// The PAC file's address.
    pub pac_url: String,
}

/// What Paramètres › « Réseau et proxy » shows: the settings and whether a proxy password is
/// stored (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct NetworkView {
    pub settings: NetworkSettings,
    #[ts(type = "string | null")]
    pub proxy_password_configured_at: Option<Timestamp>,
    /// When the PAC file the settings name was last downloaded; `None` outside the PAC mode or
    /// before the first download.
    #[ts(type = "string | null")]
    pub pac_fetched_at: Option<Timestamp>,
}

/// What the administrator saves: the settings, and the proxy password when typed again or
/// forgotten.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct NetworkChange {
    pub settings: NetworkSettings,
    /// A new proxy password; `None` keeps the stored one.
    pub proxy_password: Option<String>,
    /// Removes the stored proxy password (after a safety backup).
    #[serde(default)]
    pub forget_proxy_password: bool,
}

/// The proxy port as a number, when the field holds one between 1 and 65 535.
fn port(settings: &NetworkSettings) -> Option<u16> {
    settings
        .proxy_port
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|port| *port > 0)
}

/// Whether `host` is a bare host name or IPv4 address: letters, digits, dots, dashes.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
}

/// Every problem of `settings`, each message naming its field, in French.
pub fn problems(settings: &NetworkSettings) -> Vec<String> {
    let mut problems = Vec::new();
    match settings.mode {
        ProxyMode::Systeme | ProxyMode::Aucun => {}
        ProxyMode::Manuel => {
            let host = settings.proxy_host.trim();
            if host.is_empty() {
                problems.push(
                    "Adresse du proxy : saisissez le nom ou l'adresse IP du proxy (exemple : \
                     proxy.mairie.local ou 10.0.0.1)."
                        .to_string(),
                );
            } else if host.contains("://") || host.contains('/') || host.contains(':') {
                problems.push(format!(
                    "Adresse du proxy : saisissez seulement le nom, sans « http:// », sans chemin \
                     et sans port (le port a son propre champ) ; « {host} » ne convient pas."
                ));
            } else if !plain_host(host) {
                problems.push(format!(
                    "Adresse du proxy : « {host} » contient des caractères qu'un nom de machine \
                     ne peut pas avoir (lettres, chiffres, points et tirets seulement)."
                ));
            }
            if port(settings).is_none() {
                problems.push(
                    "Port du proxy : un nombre entre 1 et 65 535 (souvent 3128 ou 8080)."
                        .to_string(),
                );
            }
            problems.extend(username_problem(&settings.proxy_username));
        }
        ProxyMode::Pac => {
            let url = settings.pac_url.trim();
            let parsed = reqwest::Url::parse(url).ok();
            if url.is_empty() {
                problems.push(
                    "Adresse du fichier PAC : saisissez l'adresse donnée par le service \
                     informatique (exemple : http://proxy.mairie.local/proxy.pac)."
                        .to_string(),
                );
            } else if !parsed.is_some_and(|parsed| {
                matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some()
            }) {
                problems.push(format!(
                    "Adresse du fichier PAC : « {url} » n'est pas une adresse http ou https."
                ));
            }
            problems.extend(username_problem(&settings.proxy_username));
        }
    }
    problems
}

/// What is wrong with the proxy account's name, which goes into a Basic header.
fn username_problem(username: &str) -> Option<String> {
    if username.contains(':') || username.chars().any(char::is_control) {
        Some("Identifiant du proxy : il ne peut contenir ni « : » ni retour à la ligne.".into())
    } else if username.trim() != username {
        Some("Identifiant du proxy : retirez les espaces au début ou à la fin.".into())
    } else if username.len() > 256 {
        Some("Identifiant du proxy : 256 caractères au plus.".into())
    } else {
        None
    }
}

/// `Ok` when `settings` has no problem, else every message in one validation error.
pub fn validate(settings: &NetworkSettings) -> Result<()> {
    let problems = problems(settings);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(problems.join(" ")))
    }
}

/// The saved settings; the system's until an administrator chose otherwise.
pub fn get(conn: &Connection) -> Result<NetworkSettings> {
    Ok(store::setting(conn, NETWORK_KEY)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// The settings and the proxy password's status, for Paramètres.
pub fn view(conn: &Connection) -> Result<NetworkView> {
    let settings = get(conn)?;
    let pac_fetched_at = match settings.mode {
        ProxyMode::Pac => pac::stored(conn, &settings.pac_url)?.map(|kept| kept.fetched_at),
        _ => None,
    };
    Ok(NetworkView {
        settings,
        proxy_password_configured_at: vault::installation_configured_at(
            conn,
            InstallationSecret::ProxyPassword,
        )?,
        pac_fetched_at,
    })
}

/// [`save`], after downloading the PAC file when the PAC mode is chosen: a file that cannot
/// be downloaded or evaluated is refused with its reason, and nothing is saved. The window and
/// the CLI use this; `timeout` bounds the download.
pub async fn save_fetching_pac(
    store: &Store,
    key: Option<&DataKey>,
    change: NetworkChange,
    now: Timestamp,
    timeout: std::time::Duration,
) -> Result<NetworkView> {
    let script = if change.settings.mode == ProxyMode::Pac {
        validate(&NetworkSettings {
            pac_url: change.settings.pac_url.trim().to_string(),
            ..change.settings.clone()
        })?;
        Some(pac::fetch(change.settings.pac_url.trim(), timeout).await?)
    } else {
        None
    };
    let saved = save(store, key, change, now)?;
    if let Some(script) = script {
        store.write(|tx| {
            pac::keep(
                tx,
                &pac::StoredPac {
                    url: saved.settings.pac_url.clone(),
                    script,
                    fetched_at: now,
                },
            )
        })?;
    }
    store.read(view)
}

/// Checks and saves `change`. A new password needs the vault's key; forgetting one backs up
/// the database first.
pub fn save(
    store: &Store,
    key: Option<&DataKey>,
    change: NetworkChange,
    now: Timestamp,
) -> Result<NetworkView> {
    let mut settings = change.settings;
    settings.proxy_host = settings.proxy_host.trim().to_string();
    settings.proxy_port = settings.proxy_port.trim().to_string();
    settings.pac_url = settings.pac_url.trim().to_string();
    validate(&settings)?;
    let password = change
        .proxy_password
        .filter(|password| !password.is_empty())
        .map(SecretString::from);
    if password.is_some() && settings.proxy_username.is_empty() {
        return Err(Error::validation(
            "Identifiant du proxy : saisissez l'identifiant qui va avec le mot de passe.",
        ));
    }
    if change.forget_proxy_password {
        vault::delete_installation(store, InstallationSecret::ProxyPassword, now)?;
    }
    if let Some(password) = &password {
        let key = key.ok_or_else(|| {
            Error::new(
                Code::VaultLocked,
                "Le coffre des secrets est verrouillé : saisissez la phrase de protection avant \
                 d'enregistrer le mot de passe du proxy.",
            )
        })?;
        vault::set_installation(store, key, InstallationSecret::ProxyPassword, password, now)?;
    }
    let json = serde_json::to_string(&settings)
        .map_err(|e| Error::new(Code::Internal, "Réglages réseau illisibles.").with_source(e))?;
    store.write(|tx| store::set_setting(tx, NETWORK_KEY, &json))?;
    store.read(view)
}

/// The account a proxy asks for. The password may be missing: the proxy then gets the name
/// with an empty password, and its 407 says what is wrong.
#[derive(Debug, Clone)]
struct ProxyAccount {
    username: String,
    password: Option<SecretString>,
}

impl ProxyAccount {
    fn from_credentials(credentials: Option<(String, Option<SecretString>)>) -> Option<Self> {
        credentials.map(|(username, password)| ProxyAccount { username, password })
    }

    /// `proxy` sending this account in Basic.
    fn apply(&self, proxy: reqwest::Proxy) -> reqwest::Proxy {
        let password = self
            .password
            .as_ref()
            .map(|password| password.expose_secret().to_string())
            .unwrap_or_default();
        proxy.basic_auth(&self.username, &password)
    }
}

/// Where the HTTP clients' connections go.
#[derive(Debug, Clone, Default)]
enum Route {
    #[default]
    System,
    Direct,
    /// What the downloaded PAC file says for each address.
    Pac {
        route: std::sync::Arc<pac::PacRoute>,
        account: Option<ProxyAccount>,
    },
    Proxy {
        host: String,
        port: u16,
        account: Option<ProxyAccount>,
    },
}

/// The network as the HTTP clients use it, resolved from the settings and the vault by [`load`].
/// `Network::default()` is the system's settings.
#[derive(Debug, Clone, Default)]
pub struct Network {
    route: Route,
    pac_url: Option<String>,
}

impl Network {
    /// The operating system's settings.
    pub fn system() -> Network {
        Network::default()
    }

    /// Direct connections, ignoring any system proxy.
    pub fn direct() -> Network {
        Network {
            route: Route::Direct,
            pac_url: None,
        }
    }

    /// Through the HTTP proxy at `host:port`, with Basic credentials when given.
    pub fn through_proxy(
        host: &str,
        port: u16,
        credentials: Option<(String, Option<SecretString>)>,
    ) -> Network {
        Network {
            route: Route::Proxy {
                host: host.to_string(),
                port,
                account: ProxyAccount::from_credentials(credentials),
            },
            pac_url: None,
        }
    }

    /// The PAC file named in the settings, downloaded or not.
    pub fn pac_url(&self) -> Option<&str> {
        self.pac_url.as_deref()
    }

    /// The downloaded PAC file in use, if the PAC mode has one.
    pub fn pac(&self) -> Option<&pac::PacRoute> {
        match &self.route {
            Route::Pac { route, .. } => Some(route),
            _ => None,
        }
    }

    /// Through the PAC file at `url` whose text is `script`, sending Basic credentials, when
    /// given, to every proxy the file names.
    pub fn through_pac(
        url: &str,
        script: String,
        credentials: Option<(String, Option<SecretString>)>,
    ) -> Network {
        Network {
            route: Route::Pac {
                route: std::sync::Arc::new(pac::PacRoute::new(url, script)),
                account: ProxyAccount::from_credentials(credentials),
            },
            pac_url: Some(url.to_string()),
        }
    }

    /// The name of the proxy account, if one is set.
    fn account_name(&self) -> Option<&str> {
        match &self.route {
            Route::Pac { account, .. } | Route::Proxy { account, .. } => {
                account.as_ref().map(|account| account.username.as_str())
            }
            Route::System | Route::Direct => None,
        }
    }

    /// The manual proxy, as `host:port`, if there is one.
    pub fn proxy(&self) -> Option<String> {
        match &self.route {
            Route::Proxy { host, port, .. } => Some(format!("{host}:{port}")),
            _ => None,
        }
    }

    /// How the connections go, in French, for the test's report.
    pub fn describe(&self) -> String {
        let route = match (&self.route, &self.pac_url) {
            (Route::Pac { route, .. }, _) => format!("fichier PAC {}", route.url()),
            (Route::System, Some(pac)) => format!(
                "fichier PAC {pac}, pas encore téléchargé : réglages du système en attendant"
            ),
            (Route::System, None) => "réglages du système".to_string(),
            (Route::Direct, _) => "sans proxy (connexion directe)".to_string(),
            (Route::Proxy { host, port, .. }, _) => format!("proxy {host}:{port}"),
        };
        match self.account_name() {
            Some(username) => format!("{route} (identifiant {username})"),
            None => route,
        }
    }

    /// The one place where HTTP clients start: a `reqwest::ClientBuilder` that goes through this
    /// network and verifies certificates against the operating system's trust store. Callers
    /// add their timeouts and user agent; none may disable certificate checks.
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder> {
        let builder = reqwest::Client::builder();
        Ok(match &self.route {
            Route::System => builder,
            Route::Direct => builder.no_proxy(),
            Route::Pac { route, account } => {
                let route = route.clone();
                let proxy = reqwest::Proxy::custom(move |url| route.proxy_for(url));
                // reqwest sends the header only to a proxy the file chose, never on `DIRECT`.
                builder.proxy(match account {
                    Some(account) => account.apply(proxy),
                    None => proxy,
                })
            }
            Route::Proxy {
                host,
                port,
                account,
            } => {
                let mut proxy =
                    reqwest::Proxy::all(format!("http://{host}:{port}")).map_err(|e| {
                        Error::validation(format!(
                            "Adresse du proxy : « {host}:{port} » n'est pas utilisable."
                        ))
                        .with_source(e)
                    })?;
                // The simulators listen on this PC: a proxy could not reach them.
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(LOOPBACK));
                if let Some(account) = account {
                    proxy = account.apply(proxy);
                }
                builder.proxy(proxy)
            }
        })
    }

    /// [`Network::client_builder`] with a whole-request timeout, for short checks.
    pub fn client(&self, timeout: std::time::Duration) -> Result<reqwest::Client> {
        self.client_builder()?
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("guichet-qf/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(Code::Internal, "Le client HTTP n'a pas pu être préparé.").with_source(e)
            })
    }
}

/// The network of the installation: the saved settings and, for a proxy (manual or from the
/// PAC file) with an account, its password from the vault. `key` may be `None` when the vault is locked; a
/// proxy that needs the password then says so.
pub fn load(store: &Store, key: Option<&DataKey>) -> Result<Network> {
    let settings = store.read(get)?;
    resolve(store, key, &settings)
}

fn resolve(store: &Store, key: Option<&DataKey>, settings: &NetworkSettings) -> Result<Network> {
    Ok(match settings.mode {
        ProxyMode::Systeme => Network::system(),
        ProxyMode::Aucun => Network::direct(),
        ProxyMode::Pac => match store.read(|conn| pac::stored(conn, &settings.pac_url))? {
            Some(kept) => {
                Network::through_pac(&kept.url, kept.script, account(store, key, settings)?)
            }
            None => Network {
                route: Route::System,
                pac_url: Some(settings.pac_url.clone()),
            },
        },
        ProxyMode::Manuel => {
            validate(settings)?;
            let port = port(settings).unwrap_or(8080);
            Network::through_proxy(&settings.proxy_host, port, account(store, key, settings)?)
        }
    })
}

/// The proxy account of `settings` with its password from the vault, `None` without a name.
fn account(
    store: &Store,
    key: Option<&DataKey>,
    settings: &NetworkSettings,
) -> Result<Option<(String, Option<SecretString>)>> {
    if settings.proxy_username.is_empty() {
        return Ok(None);
    }
    let stored = store
        .read(|conn| vault::installation_configured_at(conn, InstallationSecret::ProxyPassword))?;
    let password =
        match (stored, key) {
            (None, _) => None,
            (Some(_), Some(key)) => {
                vault::get_installation(store, key, InstallationSecret::ProxyPassword)?
            }
            (Some(_), None) => return Err(Error::new(
                Code::VaultLocked,
                "Le coffre des secrets est verrouillé : le mot de passe du proxy ne peut pas être \
                 lu. Saisissez la phrase de protection.",
            )),
        };
    Ok(Some((settings.proxy_username.clone(), password)))
}
