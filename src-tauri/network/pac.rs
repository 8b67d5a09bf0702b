//! PAC files: the proxy auto-configuration script many departmental networks publish.
//!
//! Why it is interpreted, and how. The IT department of a département or an intercommunality
//! often gives its communes a PAC file rather than a proxy's address, and Windows' static proxy
//! settings (what reqwest reads) do not cover it. A PAC file is JavaScript
//! (`FindProxyForURL(url, host)`), so it is run by `proxy-watch`'s QuickJS evaluator in a
//! sandbox with a time budget, a bounded heap and no access to anything but the PAC helper
//! functions.
//!
//! - **When it is downloaded.** The file is fetched directly (it lives on the local network, and
//!   browsers fetch it that way) when an administrator saves the PAC mode, at each "Tester la
//!   connexion", and once a day by the window. The last good copy is kept in the `settings`
//!   table, so that a PAC server that is down for an hour does not cut the town hall off, and
//!   so that loading the network stays synchronous.
//! - **How it is used.** Every client's requests go through [`PacRoute::proxy_for`], which
//!   evaluates the script once per scheme, host and port and remembers the answer. The first
//!   `PROXY`/`HTTP`/`HTTPS` entry is used and `DIRECT` goes direct. SOCKS entries are skipped,
//!   because the clients are not built with SOCKS. If the script fails, the request goes direct
//!   and the failure is logged.
//! - **What the script may see.** DNS resolution and internal addresses are allowed (PAC files
//!   test `isInNet(dnsResolve(host), "10.0.0.0", …)` for the intranet), and `myIpAddress()` is
//!   the PC's address on its outgoing interface. The script comes from the address that the
//!   commune's administrator typed.
//! - **A proxy account**, when Paramètres has one, is sent in Basic to whichever proxy the file
//!   names (see [`super::Network::client_builder`]); a `DIRECT` answer sends it nowhere.
//! - **Not covered:** WPAD discovery without an address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use proxy_watch::pac::{PacPolicy, PacScript};
use proxy_watch::ProxyStep;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};
use crate::store::{self, Store};

/// Where the last good copy of the PAC file is kept.
const PAC_KEY: &str = "network_pac";

/// A PAC file larger than this is not a PAC file.
const MAX_BYTES: usize = 1024 * 1024;

/// How long the download may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// How old the kept copy may get before the window downloads the file again.
pub const REFRESH_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// The last good copy of the PAC file, with the address it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredPac {
    pub url: String,
    pub script: String,
    pub fetched_at: Timestamp,
}

/// The kept copy of the file at `url`, if it is the one the settings name.
pub(crate) fn stored(conn: &Connection, url: &str) -> Result<Option<StoredPac>> {
    Ok(store::setting(conn, PAC_KEY)?
        .and_then(|json| serde_json::from_str::<StoredPac>(&json).ok())
        .filter(|stored| stored.url == url))
}

pub(crate) fn keep(conn: &Connection, stored: &StoredPac) -> Result<()> {
    let json = serde_json::to_string(stored)
        .map_err(|e| Error::new(Code::Internal, "Fichier PAC illisible.").with_source(e))?;
    store::set_setting(conn, PAC_KEY, &json)
}

/// Downloads the PAC file at `url` directly, and checks that it answers for a State service.
/// The French message names the field, for Paramètres.
pub async fn fetch(url: &str, timeout: Duration) -> Result<String> {
    let failed = |what: String| {
        Error::validation(format!(
            "Adresse du fichier PAC : {what} Vérifiez l'adresse auprès du service informatique."
        ))
    };
    let client = super::Network::direct().client(timeout)?;
    let response = client.get(url).send().await.map_err(|e| {
        failed(format!(
            "le fichier n'a pas pu être téléchargé ({}).",
            super::check::short_cause(&e)
        ))
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!(
            "le serveur a répondu {} au lieu du fichier.",
            status.as_u16()
        )));
    }
    let bytes = response.bytes().await.map_err(|e| {
        failed(format!(
            "le fichier n'a pas pu être lu ({}).",
            super::check::short_cause(&e)
        ))
    })?;
    if bytes.len() > MAX_BYTES {
        return Err(failed(
            "le fichier dépasse 1 Mo : ce n'est pas un fichier PAC.".into(),
        ));
    }
    let script = String::from_utf8_lossy(&bytes).into_owned();
    let probe = reqwest::Url::parse("https://particulier.api.gouv.fr/").expect("a valid URL");
    let route = PacRoute::new(url, script.clone());
    route
        .evaluate(&probe)
        .map_err(|problem| failed(format!("le fichier ne peut pas être utilisé : {problem}.")))?;
    Ok(script)
}

/// Downloads the PAC file that the settings name and keeps it. Returns `false` when the
/// settings are not in PAC mode. Used by "Tester la connexion", by the window once a day, and
/// by the command line.
pub async fn refresh(store: &Store, now: Timestamp) -> Result<bool> {
    let settings = store.read(super::get)?;
    if settings.mode != super::ProxyMode::Pac {
        return Ok(false);
    }
    let script = fetch(&settings.pac_url, FETCH_TIMEOUT).await?;
    store.write(|tx| {
        keep(
            tx,
            &StoredPac {
                url: settings.pac_url.clone(),
                script,
                fetched_at: now,
            },
        )
    })?;
    Ok(true)
}

/// [`refresh`] when the kept copy is older than [`REFRESH_AFTER`] or missing; a failure
/// leaves the copy in place.
pub async fn refresh_if_stale(store: &Store, now: Timestamp) -> Result<bool> {
    let settings = store.read(super::get)?;
    if settings.mode != super::ProxyMode::Pac {
        return Ok(false);
    }
    let kept = store.read(|conn| stored(conn, &settings.pac_url))?;
    if kept.is_some_and(|kept| now.duration_since(kept.fetched_at) < REFRESH_AFTER) {
        return Ok(false);
    }
    refresh(store, now).await
}

/// The PC's address on the interface that reaches the internet, for `myIpAddress()`. Found by
/// connecting a UDP socket, which sends nothing; `None` on a PC without a route.
fn outgoing_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // A documentation address (RFC 5737): only the routing table is asked.
    socket.connect("192.0.2.1:80").ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// A PAC file ready to answer "which proxy for this URL?".
pub struct PacRoute {
    url: String,
    script: PacScript,
    policy: PacPolicy,
    /// The answer for each `scheme://host:port` already asked.
    answers: Mutex<HashMap<String, Option<String>>>,
}

impl std::fmt::Debug for PacRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacRoute").field("url", &self.url).finish()
    }
}

impl PacRoute {
    pub fn new(url: &str, script: String) -> PacRoute {
        let mut policy = PacPolicy::new()
            .with_dns_resolution(true)
            .with_internal_addresses(true);
        if let Some(address) = outgoing_address() {
            policy = policy.with_my_ip_address(address);
        }
        PacRoute {
            url: url.to_string(),
            script: PacScript::new(script),
            policy,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// The PAC file's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the script says for `url`: the proxy's URL, or `None` for a direct connection. An
    /// error is the script's failure, in French.
    pub fn evaluate(&self, url: &reqwest::Url) -> std::result::Result<Option<String>, String> {
        let steps = proxy_watch::pac::evaluate(&self.script, url, &self.policy)
            .map_err(|error| format!("FindProxyForURL a échoué ({error})"))?;
        for step in &steps {
            match step {
                ProxyStep::Direct => return Ok(None),
                ProxyStep::Http(endpoint) => {
                    return Ok(Some(format!("http://{}", endpoint.authority())))
                }
                ProxyStep::Https(endpoint) => {
                    return Ok(Some(format!("https://{}", endpoint.authority())))
                }
                // The clients are built without SOCKS (and know no later kind of entry): the
                // next entry is tried.
                _ => {}
            }
        }
        if steps.is_empty() {
            Ok(None)
        } else {
            Err("le fichier ne propose que des proxys SOCKS, que Guichet QF n'utilise pas".into())
        }
    }

    /// The proxy for `url`, remembered per scheme, host and port. This PC's own addresses are
    /// always reached directly (the simulators), and a failing script means a direct
    /// connection, logged.
    pub fn proxy_for(&self, url: &reqwest::Url) -> Option<String> {
        let host = url.host_str().unwrap_or_default();
        if super::is_loopback(host) {
            return None;
        }
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            host,
            url.port_or_known_default().unwrap_or(0)
        );
        if let Some(answer) = self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return answer.clone();
        }
        let answer = self.evaluate(url).unwrap_or_else(|problem| {
            tracing::warn!(pac = %self.url, %key, %problem, "PAC file failed, going direct");
            None
        });
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, answer.clone());
        answer
    }

    /// What the script says for each of `urls`, in words, for the connection test.
    pub fn describe_routes(&self, urls: &[(&str, &str)]) -> std::result::Result<String, String> {
        let mut parts = Vec::new();
        for (name, address) in urls {
            let url = reqwest::Url::parse(address).map_err(|e| format!("{address} : {e}"))?;
            let host = url.host_str().unwrap_or_default();
            let route = if super::is_loopback(host) {
                "en direct (ce poste)".to_string()
            } else {
                match self.evaluate(&url)? {
                    Some(proxy) => format!("par le proxy {}", proxy_label(&proxy)),
                    None => "en direct".to_string(),
                }
            };
            parts.push(format!("{name} {route}"));
        }
        Ok(parts.join(", "))
    }
}

/// `host:port` of a proxy URL, as the agent would type it.
fn proxy_label(proxy: &str) -> &str {
    proxy
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(proxy)
}
