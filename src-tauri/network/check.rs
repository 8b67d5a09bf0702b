//! "Tester la connexion": reaches the two State services a commune depends on, through the
//! configured network, and explains each failure in words an administrator can act on.
//!
//! Why these two calls: Hubee's token endpoint is the first thing the sync does and the only
//! Hubee call that proves both the path (DNS, proxy, TLS) and the commune's credentials; API
//! Particulier's ping of the QF provider (`/api/cnaf_msa_quotient_familial/ping`, spec
//! api-particulier §1) needs no token and costs no quota. Failures are classified from what
//! reqwest reports — name resolution, refused or silent connection, the proxy's 407, a
//! certificate the system does not trust (the usual sign of a TLS-inspecting proxy), an HTTP
//! status, refused credentials — since a town hall's IT contact needs to know which of them to
//! fix, not that "the connection failed".

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use super::Network;
use jiff::Timestamp;

use crate::communes::Commune;
use crate::endpoints::ServiceUrls;
use crate::error::{Code, Error, Result};
use crate::store::Store;
use crate::vault::{self, DataKey, ExposeSecret, SecretKind, SecretString};

/// The QF provider's ping on API Particulier: no token, no quota.
pub const PARTICULIER_PING_PATH: &str = "/api/cnaf_msa_quotient_familial/ping";

/// How long each check may take unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong on one line of the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FailureKind {
    /// The name of the service (or of the proxy) does not resolve.
    Dns,
    /// Nobody accepts the connection: a firewall, or a proxy that does not listen there.
    Refused,
    /// Nobody answers in time: a firewall that drops, a missing proxy.
    Timeout,
    /// The proxy asks for (other) credentials: HTTP 407.
    ProxyCredentials,
    /// The proxy refused to open the way to the service.
    Proxy,
    /// The certificate presented is not trusted by the system: a TLS-inspecting proxy whose
    /// certificate is not in the Windows store, or a wrong server.
    Tls,
    /// The service refuses the commune's credentials.
    CredentialsRefused,
    /// The commune's credentials are not configured: the service answered, nothing more to try.
    CredentialsMissing,
    /// The service answered with an unexpected HTTP status.
    HttpStatus,
    /// Anything else (a connection cut short, an unreadable answer, the PAC file).
    Other,
}

/// One line of the test's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CheckLine {
    /// What was tried, in French ("Hubee : jeton d'accès").
    pub service: String,
    /// The address tried.
    pub address: String,
    /// `true` when the service answered as expected.
    pub ok: bool,
    pub failure: Option<FailureKind>,
    /// What happened, in French.
    pub explanation: String,
    /// What to do about it, in French; empty on success.
    pub advice: String,
}

/// The whole test for one commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ConnectionReport {
    pub commune: String,
    /// The commune's environment, in French ("production", "bac à sable", "simulateur").
    pub environment: String,
    /// How the connections went, in French ("réglages du système", "proxy …").
    pub route: String,
    pub lines: Vec<CheckLine>,
}

impl ConnectionReport {
    /// Whether every line succeeded.
    pub fn ok(&self) -> bool {
        self.lines.iter().all(|line| line.ok)
    }

    /// The report as the command line prints it, one line per check plus its advice.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Test de connexion de {} ({}), {}\n",
            self.commune, self.environment, self.route
        );
        for line in &self.lines {
            let verdict = if line.ok { "réussi" } else { "échec" };
            out.push_str(&format!(
                "{} : {verdict} — {}\n",
                line.service, line.explanation
            ));
            if !line.advice.is_empty() {
                out.push_str(&format!("  À faire : {}\n", line.advice));
            }
        }
        out
    }
}

/// The Hubee credentials of the commune, when configured.
pub struct HubeeCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Everything the test needs about the commune, gathered by the caller.
pub struct Target<'a> {
    pub commune: &'a str,
    pub environment: &'a str,
    pub urls: &'a ServiceUrls,
    pub hubee: Option<HubeeCredentials>,
}

/// The test for `commune` as the window and the CLI run it: the installation's network, the
/// commune's Hubee credentials from the vault when they are configured, its environment's URLs.
/// `key` is `None` while the vault is locked, which is only an error when a secret is needed.
/// In the PAC mode the file is downloaded again first, and kept when it is good; when it is
/// not, the report says why and the kept copy, if any, is tested.
pub async fn check_commune(
    store: &Store,
    key: Option<&DataKey>,
    commune: &Commune,
    urls: &ServiceUrls,
    timeout: Duration,
    now: Timestamp,
) -> Result<ConnectionReport> {
    let pac_problem = super::pac::refresh(store, now).await.err();
    let network = super::load(store, key)?;
    let hubee = if crate::sync::connect::has_credentials(store, commune)? {
        let key = key.ok_or_else(|| {
            Error::new(
                Code::VaultLocked,
                "Le coffre des secrets est verrouillé : saisissez la phrase de protection pour \
                 tester les identifiants Hubee.",
            )
        })?;
        let client_id = vault::get(store, key, commune.id, SecretKind::HubeeClientId)?;
        let client_secret = vault::get(store, key, commune.id, SecretKind::HubeeClientSecret)?;
        client_id
            .zip(client_secret)
            .map(|(id, secret)| HubeeCredentials {
                client_id: id.expose_secret().to_string(),
                client_secret: secret,
            })
    } else {
        None
    };
    let target = Target {
        commune: &commune.name,
        environment: commune.environment.label(),
        urls,
        hubee,
    };
    let mut report = check_connection(&network, target, timeout).await;
    if let Some(problem) = pac_problem {
        report.lines.insert(
            0,
            CheckLine {
                service: "Fichier PAC".into(),
                address: network.pac_url().unwrap_or_default().to_string(),
                ok: false,
                failure: Some(FailureKind::Other),
                explanation: problem.message,
                advice: if network.pac().is_some() {
                    "La dernière copie téléchargée du fichier est utilisée en attendant.".into()
                } else {
                    "Sans fichier PAC, les réglages du système sont utilisés.".into()
                },
            },
        );
    }
    Ok(report)
}

/// Runs every check through `network` and reports each one. Never fails as a whole: a client
/// that cannot be prepared is itself a line.
pub async fn check_connection(
    network: &Network,
    target: Target<'_>,
    timeout: Duration,
) -> ConnectionReport {
    let mut lines = Vec::new();
    match network.client(timeout) {
        Ok(client) => {
            if let Some(pac) = network.pac() {
                lines.push(check_pac(pac, target.urls));
            }
            // Both at once: a silent firewall costs one timeout, not two.
            let (hubee, particulier) = futures_util::join!(
                check_hubee(&client, network, target.urls, target.hubee.as_ref()),
                check_particulier(&client, network, target.urls)
            );
            lines.push(hubee);
            lines.push(particulier);
        }
        Err(error) => lines.push(CheckLine {
            service: "Préparation des connexions".into(),
            address: network.describe(),
            ok: false,
            failure: Some(FailureKind::Other),
            explanation: error.message,
            advice: "Vérifiez les réglages de Paramètres › Réseau et proxy.".into(),
        }),
    }
    ConnectionReport {
        commune: target.commune.to_string(),
        environment: target.environment.to_string(),
        route: network.describe(),
        lines,
    }
}

async fn check_hubee(
    client: &reqwest::Client,
    network: &Network,
    urls: &ServiceUrls,
    credentials: Option<&HubeeCredentials>,
) -> CheckLine {
    let service = "Hubee : jeton d'accès";
    let url = &urls.hubee_auth_url;
    // Without credentials the request still proves the way there: Hubee answers 401.
    let (id, secret) = match credentials {
        Some(c) => (c.client_id.as_str(), c.client_secret.expose_secret()),
        None => ("", ""),
    };
    let request = client
        .post(url)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")]);
    let (status, body) = match exchange(request).await {
        Ok(answer) => answer,
        Err(error) => return failed_to_reach(service, url, network, "Hubee", &error),
    };
    let line = |ok, failure, explanation: String, advice: &str| CheckLine {
        service: service.into(),
        address: url.clone(),
        ok,
        failure,
        explanation,
        advice: advice.into(),
    };
    if let Some(proxy_line) = proxy_status(service, url, network, status) {
        return proxy_line;
    }
    let oauth_error = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_string));
    match (status, credentials) {
        (200, _) => {
            let has_token = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .is_some_and(|value| value.get("access_token").is_some());
            if has_token {
                line(
                    true,
                    None,
                    "Hubee a délivré un jeton : le chemin et les identifiants de la commune sont \
                     bons."
                        .into(),
                    "",
                )
            } else {
                line(
                    false,
                    Some(FailureKind::HttpStatus),
                    "L'adresse a répondu 200 mais sans jeton : ce n'est pas Hubee qui répond \
                     (page d'un proxy ou d'un portail ?)."
                        .into(),
                    "Montrez ce message au service informatique : l'accès à Hubee est \
                     peut-être filtré.",
                )
            }
        }
        (400 | 401, None) => line(
            false,
            Some(FailureKind::CredentialsMissing),
            "Hubee répond, mais les identifiants Hubee de la commune ne sont pas configurés."
                .into(),
            "Renseignez l'identifiant client et la clé secrète dans Paramètres › Secrets.",
        ),
        (400 | 401, Some(_))
            if oauth_error.as_deref() == Some("invalid_client") || status == 401 =>
        {
            line(
                false,
                Some(FailureKind::CredentialsRefused),
                "Hubee répond mais refuse les identifiants de la commune (invalid_client).".into(),
                "Vérifiez l'identifiant client et la clé secrète dans Paramètres › Secrets, et \
                 qu'ils sont ceux de l'environnement de la commune (production ou bac à sable).",
            )
        }
        (status, _) => line(
            false,
            Some(FailureKind::HttpStatus),
            format!(
                "Hubee a répondu {status}{}.",
                oauth_error.map(|e| format!(" ({e})")).unwrap_or_default()
            ),
            "Réessayez plus tard ; si cela dure, signalez-le au support Hubee.",
        ),
    }
}

async fn check_particulier(
    client: &reqwest::Client,
    network: &Network,
    urls: &ServiceUrls,
) -> CheckLine {
    let service = "API Particulier : disponibilité du quotient familial";
    let url = format!(
        "{}{PARTICULIER_PING_PATH}",
        urls.particulier_url.trim_end_matches('/')
    );
    let request = client
        .get(&url)
        .header(reqwest::header::ACCEPT, "application/json");
    let (status, body) = match exchange(request).await {
        Ok(answer) => answer,
        Err(error) => return failed_to_reach(service, &url, network, "API Particulier", &error),
    };
    if let Some(proxy_line) = proxy_status(service, &url, network, status) {
        return proxy_line;
    }
    let ping_ok = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value.get("status")?.as_str().map(|s| s == "ok"))
        == Some(true);
    let (ok, failure, explanation, advice) = match status {
        200 if ping_ok => (
            true,
            None,
            "API Particulier répond et le fournisseur du QF (CAF/MSA) est disponible.".to_string(),
            "",
        ),
        200 => (
            false,
            Some(FailureKind::HttpStatus),
            "L'adresse a répondu 200 mais pas comme API Particulier : une page d'un proxy ou \
             d'un portail s'est interposée."
                .to_string(),
            "Montrez ce message au service informatique : l'accès à API Particulier est \
             peut-être filtré.",
        ),
        status => (
            false,
            Some(FailureKind::HttpStatus),
            format!("API Particulier a répondu {status}."),
            "Consultez status.particulier.api.gouv.fr ; réessayez plus tard.",
        ),
    };
    CheckLine {
        service: service.into(),
        address: url,
        ok,
        failure,
        explanation,
        advice: advice.into(),
    }
}

/// What the PAC file in use says for each service of the commune.
fn check_pac(pac: &super::pac::PacRoute, urls: &ServiceUrls) -> CheckLine {
    let routes = pac.describe_routes(&[
        ("Hubee", urls.hubee_auth_url.as_str()),
        ("API Particulier", urls.particulier_url.as_str()),
    ]);
    let (ok, failure, explanation, advice) = match routes {
        Ok(routes) => (
            true,
            None,
            format!("D'après le fichier PAC : {routes}."),
            String::new(),
        ),
        Err(problem) => (
            false,
            Some(FailureKind::Other),
            format!("Le fichier PAC ne peut pas être utilisé : {problem}."),
            "Montrez ce message au service informatique, ou choisissez « Proxy manuel » avec le \
             proxy qu'il vous indique."
                .to_string(),
        ),
    };
    CheckLine {
        service: "Fichier PAC".into(),
        address: pac.url().to_string(),
        ok,
        failure,
        explanation,
        advice,
    }
}

/// Sends a request and reads the whole answer.
async fn exchange(request: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?.to_vec();
    Ok((status, body))
}

/// A 407 from the proxy, or a 502/503 the proxy made up, on a plain-http service.
fn proxy_status(service: &str, url: &str, network: &Network, status: u16) -> Option<CheckLine> {
    (status == 407).then(|| CheckLine {
        service: service.into(),
        address: url.into(),
        ok: false,
        failure: Some(FailureKind::ProxyCredentials),
        explanation: "Le proxy demande un identifiant et un mot de passe (HTTP 407), ou refuse \
                      ceux qui sont enregistrés."
            .into(),
        advice: proxy_credentials_advice(network),
    })
}

fn proxy_credentials_advice(network: &Network) -> String {
    match (network.proxy(), network.pac()) {
        (Some(proxy), _) => format!(
            "Vérifiez l'identifiant et le mot de passe du proxy {proxy} dans Paramètres › Réseau \
             et proxy (demandez-les au service informatique)."
        ),
        (None, Some(_)) => "Saisissez ou vérifiez l'identifiant et le mot de passe du proxy, \
                            sous l'adresse du fichier PAC dans Paramètres › Réseau et proxy \
                            (demandez-les au service informatique)."
            .into(),
        (None, None) => "Choisissez « Proxy manuel » ou « Fichier de configuration \
                         automatique (PAC) » dans Paramètres › Réseau et proxy et saisissez \
                         l'identifiant et le mot de passe du proxy donnés par le service \
                         informatique."
            .into(),
    }
}

/// Every message of `error`'s causes, lowercase, for the classification. reqwest's own message
/// is left out: it holds the URL, whose host or port could look like a cause.
fn chain(error: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.to_lowercase()
}

/// Whether one of `error`'s causes is an I/O error of `kind`.
fn io_kind(error: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The innermost cause, for a short technical mention.
pub(super) fn short_cause(error: &reqwest::Error) -> String {
    let mut last = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        last = cause.to_string();
        source = cause.source();
    }
    last
}

/// The classification of a failure to get any answer.
pub fn classify(error: &reqwest::Error) -> FailureKind {
    let text = chain(error);
    if text.contains("proxy authorization required") {
        FailureKind::ProxyCredentials
    } else if error.is_dns() || text.contains("dns error") {
        FailureKind::Dns
    } else if io_kind(error, std::io::ErrorKind::ConnectionRefused)
        || text.contains("connection refused")
    {
        FailureKind::Refused
    } else if error.is_timeout() || text.contains("timed out") {
        FailureKind::Timeout
    } else if text.contains("certificate")
        || text.contains("unknownissuer")
        || text.contains("invalid peer")
        || text.contains("tls")
        || text.contains("handshake")
    {
        FailureKind::Tls
    } else if text.contains("tunnel") || text.contains("unsuccessful") {
        FailureKind::Proxy
    } else {
        FailureKind::Other
    }
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string())
}

/// The line for a service that gave no answer, with the French explanation of `error`.
fn failed_to_reach(
    service: &str,
    url: &str,
    network: &Network,
    name: &str,
    error: &reqwest::Error,
) -> CheckLine {
    let kind = classify(error);
    let host = host_of(url);
    let proxy = network.proxy().filter(|_| !super::is_loopback(&host));
    let (explanation, advice) = match (kind, &proxy) {
        (FailureKind::Dns, Some(proxy)) => (
            format!("Le nom du proxy {proxy} est introuvable (DNS)."),
            "Vérifiez l'adresse du proxy dans Paramètres › Réseau et proxy.".to_string(),
        ),
        (FailureKind::Dns, None) => (
            format!("Le nom {host} est introuvable (DNS) : le poste ne sait pas où est {name}."),
            "Vérifiez la connexion internet du poste ; si les sites web ne s'ouvrent qu'à \
             travers un proxy, choisissez « Proxy manuel » dans Paramètres › Réseau et proxy."
                .to_string(),
        ),
        (FailureKind::Refused, Some(proxy)) => (
            format!("Le proxy {proxy} refuse la connexion : il n'écoute pas sur ce port."),
            "Vérifiez l'adresse et le port du proxy auprès du service informatique.".to_string(),
        ),
        (FailureKind::Refused, None) => (
            format!(
                "{name} ({host}) refuse la connexion : un pare-feu ou un proxy bloque le \
                     passage."
            ),
            "Demandez au service informatique d'ouvrir l'accès à ce site, ou le proxy à \
             utiliser (Paramètres › Réseau et proxy)."
                .to_string(),
        ),
        (FailureKind::Timeout, _) => (
            format!(
                "{name} ({host}) ne répond pas dans le délai : un pare-feu bloque peut-être \
                     le passage, ou un proxy est nécessaire."
            ),
            "Demandez au service informatique si un proxy est nécessaire et lequel \
             (Paramètres › Réseau et proxy)."
                .to_string(),
        ),
        (FailureKind::ProxyCredentials, _) => (
            "Le proxy demande un identifiant et un mot de passe (HTTP 407), ou refuse ceux qui \
             sont enregistrés."
                .to_string(),
            proxy_credentials_advice(network),
        ),
        (FailureKind::Proxy, _) => (
            format!("Le proxy a refusé d'ouvrir la connexion vers {host}."),
            "Demandez au service informatique d'autoriser ce site sur le proxy.".to_string(),
        ),
        (FailureKind::Tls, _) => (
            format!(
                "Le certificat présenté pour {host} n'est pas reconnu par Windows : un proxy \
                     qui inspecte le trafic s'interpose probablement."
            ),
            "Demandez au service informatique d'installer le certificat de ce proxy dans le \
             magasin de certificats Windows (« Autorités de certification racines de \
             confiance »), ou d'exclure ce site de l'inspection. Guichet QF n'accepte jamais un \
             certificat non reconnu."
                .to_string(),
        ),
        _ => (
            format!(
                "La connexion avec {name} ({host}) a échoué ({}).",
                short_cause(error)
            ),
            "Réessayez ; si cela dure, montrez ce message au service informatique.".to_string(),
        ),
    };
    CheckLine {
        service: service.into(),
        address: url.into(),
        ok: false,
        failure: Some(kind),
        explanation,
        advice,
    }
}
