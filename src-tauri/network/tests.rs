//! The network settings' checks and storage, and the connection test against loopback servers:
//! the simulators, a closed port, an unresolvable `.invalid` name, tiny proxies and a TLS
//! server whose certificate no system trusts.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::check::{self, FailureKind, HubeeCredentials, Target};
use super::*;
use crate::endpoints::ServiceUrls;
use crate::simulators::hubee::{Config as HubeeConfig, Credentials, HubeeSimulator};
use crate::simulators::particulier::{Config as ParticulierConfig, ParticulierSimulator};

const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const SHORT: Duration = Duration::from_secs(3);

/// The vault of `store`, protected by a passphrase (no system keyring in tests).
fn open_vault(store: &Store, now: Timestamp) -> DataKey {
    vault::open_or_init(
        store,
        &vault::NoKeystore,
        Some(&"phrase de protection longue".into()),
        now,
    )
    .unwrap()
}

fn manual(host: &str, port: &str, username: &str) -> NetworkSettings {
    NetworkSettings {
        mode: ProxyMode::Manuel,
        proxy_host: host.into(),
        proxy_port: port.into(),
        proxy_username: username.into(),
        pac_url: String::new(),
    }
}

#[test]
fn each_field_is_checked_in_french_for_its_mode_only() {
    assert!(problems(&NetworkSettings::default()).is_empty());
    let ignored = NetworkSettings {
        mode: ProxyMode::Aucun,
        proxy_port: "pas un port".into(),
        ..NetworkSettings::default()
    };
    assert!(
        problems(&ignored).is_empty(),
        "other modes' fields are kept, not checked"
    );
    assert!(problems(&manual("proxy.mairie.local", "3128", "agent")).is_empty());
    assert!(problems(&manual("10.0.0.1", "8080", "")).is_empty());

    let empty = problems(&manual("", "", ""));
    assert_eq!(empty.len(), 2, "{empty:?}");
    assert!(empty[0].starts_with("Adresse du proxy"), "{empty:?}");
    assert!(empty[1].starts_with("Port du proxy"), "{empty:?}");
    for bad_host in [
        "http://proxy.mairie.local",
        "proxy.mairie.local:3128",
        "proxy/x",
    ] {
        let found = problems(&manual(bad_host, "3128", ""));
        assert_eq!(found.len(), 1, "{bad_host}");
        assert!(found[0].contains("sans « http:// »"), "{found:?}");
    }
    assert!(problems(&manual("proxy mairie", "3128", ""))[0].contains("caractères"));
    for bad_port in ["0", "65536", "-1", "80a"] {
        assert_eq!(
            problems(&manual("proxy", bad_port, "")),
            vec!["Port du proxy : un nombre entre 1 et 65 535 (souvent 3128 ou 8080).".to_string()],
            "{bad_port}"
        );
    }
    assert!(problems(&manual("proxy", "3128", "dom:agent"))[0].starts_with("Identifiant du proxy"));

    let pac = |url: &str| NetworkSettings {
        mode: ProxyMode::Pac,
        pac_url: url.into(),
        ..NetworkSettings::default()
    };
    assert!(problems(&pac("http://proxy.mairie.local/proxy.pac")).is_empty());
    assert!(problems(&pac(""))[0].starts_with("Adresse du fichier PAC : saisissez"));
    assert!(problems(&pac("file:///C:/proxy.pac"))[0].contains("n'est pas une adresse http"));
    let pac_account = NetworkSettings {
        proxy_username: " agent".into(),
        ..pac("http://proxy.mairie.local/proxy.pac")
    };
    assert_eq!(
        problems(&pac_account),
        vec!["Identifiant du proxy : retirez les espaces au début ou à la fin.".to_string()],
        "the PAC mode's account is checked too"
    );
    let error = validate(&manual("", "x", "")).unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(error.message.contains("Adresse du proxy") && error.message.contains("Port du proxy"));
}

#[test]
fn settings_and_the_proxy_password_are_saved_and_the_password_never_shown() {
    let (_dir, store, _commune) = crate::fixtures::store_with_commune();
    let now = Timestamp::from_second(1_795_000_000).unwrap();
    assert_eq!(store.read(get).unwrap(), NetworkSettings::default());
    let key = open_vault(&store, now);
    let change = |password: Option<&str>, forget| NetworkChange {
        settings: manual(" proxy.mairie.local ", " 3128 ", "agent"),
        proxy_password: password.map(str::to_string),
        forget_proxy_password: forget,
    };
    // A password with a locked vault is refused and nothing is saved.
    let locked = save(&store, None, change(Some("motdepasse"), false), now).unwrap_err();
    assert_eq!(locked.code, Code::VaultLocked);
    assert_eq!(store.read(get).unwrap().mode, ProxyMode::Systeme);

    let view = save(&store, Some(&key), change(Some("motdepasse"), false), now).unwrap();
    assert_eq!(view.settings.proxy_host, "proxy.mairie.local");
    assert_eq!(view.settings.proxy_port, "3128");
    assert_eq!(view.proxy_password_configured_at, Some(now));
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains("motdepasse"), "{json}");

    let network = load(&store, Some(&key)).unwrap();
    assert_eq!(network.proxy().as_deref(), Some("proxy.mairie.local:3128"));
    assert_eq!(
        network.describe(),
        "proxy proxy.mairie.local:3128 (identifiant agent)"
    );
    assert_eq!(load(&store, None).unwrap_err().code, Code::VaultLocked);

    // Saving again without a password keeps it; forgetting it backs up first.
    let kept = save(&store, Some(&key), change(None, false), now).unwrap();
    assert_eq!(kept.proxy_password_configured_at, Some(now));
    let forgotten = save(&store, Some(&key), change(None, true), now).unwrap();
    assert_eq!(forgotten.proxy_password_configured_at, None);
    assert_eq!(crate::store::backup::list(&store).unwrap().len(), 1);
    assert!(load(&store, None).is_ok(), "no password to read any more");

    let password_without_account = NetworkChange {
        settings: manual("proxy", "3128", ""),
        proxy_password: Some("x".into()),
        forget_proxy_password: false,
    };
    let error = save(&store, Some(&key), password_without_account, now).unwrap_err();
    assert!(
        error.message.starts_with("Identifiant du proxy"),
        "{}",
        error.message
    );
}

#[test]
fn a_pac_file_is_evaluated_for_each_address_and_this_pc_stays_direct() {
    let script = r#"function FindProxyForURL(url, host) {
        if (isPlainHostName(host) || dnsDomainIs(host, ".mairie.local")) return "DIRECT";
        if (shExpMatch(host, "*.gouv.fr")) return "PROXY proxy-etat.cc.local:3128; DIRECT";
        if (host == "127.0.0.1") return "PROXY proxy.cc.local:8080";
        return "SOCKS5 socks.cc.local:1080; HTTPS secure.cc.local:8443";
    }"#;
    let route = pac::PacRoute::new("http://proxy.cc.local/proxy.pac", script.into());
    let url = |text: &str| reqwest::Url::parse(text).unwrap();
    assert_eq!(
        route.proxy_for(&url("https://particulier.api.gouv.fr/api/ping")),
        Some("http://proxy-etat.cc.local:3128".into())
    );
    assert_eq!(route.proxy_for(&url("http://intranet/")), None);
    assert_eq!(route.proxy_for(&url("http://gestion.mairie.local/")), None);
    // SOCKS is skipped for the next entry.
    assert_eq!(
        route.proxy_for(&url("https://example.org/")),
        Some("https://secure.cc.local:8443".into())
    );
    // This PC is never sent through a proxy, whatever the file says (the simulators).
    assert_eq!(route.proxy_for(&url("http://127.0.0.1:8080/")), None);
    assert_eq!(
        route
            .describe_routes(&[
                ("Hubee", "https://auth.hubee.numerique.gouv.fr/oauth2/token"),
                ("API Particulier", "http://127.0.0.1:9000"),
            ])
            .unwrap(),
        "Hubee par le proxy proxy-etat.cc.local:3128, API Particulier en direct (ce poste)"
    );

    let broken = pac::PacRoute::new("http://proxy.cc.local/proxy.pac", "function (".into());
    let problem = broken
        .evaluate(&url("https://particulier.api.gouv.fr/"))
        .unwrap_err();
    assert!(problem.starts_with("FindProxyForURL a échoué"), "{problem}");
    // A failing file means a direct connection, not a stuck client.
    assert_eq!(
        broken.proxy_for(&url("https://particulier.api.gouv.fr/")),
        None
    );
    let socks_only = pac::PacRoute::new(
        "http://proxy.cc.local/proxy.pac",
        r#"function FindProxyForURL(u, h) { return "SOCKS socks.cc.local:1080"; }"#.into(),
    );
    assert!(socks_only
        .evaluate(&url("https://particulier.api.gouv.fr/"))
        .unwrap_err()
        .contains("SOCKS"));
}

#[test]
fn no_source_file_turns_certificate_checks_off() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri");
    let mut stack = vec![root];
    let forbidden = ["danger_accept_invalid", "NoVerifier", "dangerous()"];
    let mut scanned = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                scanned += 1;
                for word in forbidden {
                    assert!(!text.contains(word), "{} contains {word}", path.display());
                }
            }
        }
    }
    assert!(scanned > 50, "only {scanned} files scanned");
}

struct Simulators {
    hubee: HubeeSimulator,
    particulier: ParticulierSimulator,
}

async fn simulators() -> Simulators {
    let hubee = HubeeSimulator::start(0, HubeeConfig::default())
        .await
        .unwrap();
    hubee.add_subscriber(
        SIRET,
        COG,
        &Credentials {
            client_id: "majastres-client".into(),
            client_secret: "majastres-secret".into(),
        },
    );
    let particulier = ParticulierSimulator::start(0, ParticulierConfig::default())
        .await
        .unwrap();
    Simulators { hubee, particulier }
}

impl Simulators {
    fn urls(&self) -> ServiceUrls {
        ServiceUrls {
            hubee_auth_url: self.hubee.auth_url(),
            hubee_api_url: self.hubee.api_url(),
            particulier_url: self.particulier.url(),
        }
    }
}

fn credentials(secret: &str) -> Option<HubeeCredentials> {
    Some(HubeeCredentials {
        client_id: "majastres-client".into(),
        client_secret: secret.to_string().into(),
    })
}

async fn run(
    network: &Network,
    urls: &ServiceUrls,
    hubee: Option<HubeeCredentials>,
) -> check::ConnectionReport {
    check::check_connection(
        network,
        Target {
            commune: "Majastres",
            environment: "simulateur",
            urls,
            hubee,
        },
        SHORT,
    )
    .await
}

fn kinds(report: &check::ConnectionReport) -> Vec<Option<FailureKind>> {
    report.lines.iter().map(|line| line.failure).collect()
}

#[tokio::test]
async fn both_services_answer_through_a_direct_network() {
    let sims = simulators().await;
    let report = run(
        &Network::direct(),
        &sims.urls(),
        credentials("majastres-secret"),
    )
    .await;
    assert!(report.ok(), "{}", report.text());
    assert_eq!(report.lines.len(), 2);
    assert!(report.lines[0]
        .explanation
        .contains("Hubee a délivré un jeton"));
    assert!(report.lines[1]
        .address
        .ends_with("/api/cnaf_msa_quotient_familial/ping"));
    let text = report.text();
    assert!(
        text.starts_with("Test de connexion de Majastres (simulateur), sans proxy"),
        "{text}"
    );
    assert!(
        text.contains("API Particulier : disponibilité du quotient familial : réussi"),
        "{text}"
    );
}

#[tokio::test]
async fn refused_or_missing_credentials_are_told_apart() {
    let sims = simulators().await;
    let refused = run(
        &Network::direct(),
        &sims.urls(),
        credentials("mauvais-secret"),
    )
    .await;
    assert_eq!(
        kinds(&refused),
        vec![Some(FailureKind::CredentialsRefused), None]
    );
    assert!(refused.lines[0].advice.contains("Paramètres › Secrets"));
    let missing = run(&Network::direct(), &sims.urls(), None).await;
    assert_eq!(
        kinds(&missing),
        vec![Some(FailureKind::CredentialsMissing), None]
    );
    assert!(!missing.ok());
}

/// A port nobody listens on: bound, then closed.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[tokio::test]
async fn a_closed_port_an_unknown_name_and_a_closed_proxy_are_explained() {
    let port = closed_port().await;
    let urls = ServiceUrls {
        hubee_auth_url: format!("http://127.0.0.1:{port}/oauth2/token"),
        hubee_api_url: format!("http://127.0.0.1:{port}"),
        particulier_url: "http://particulier.guichet-qf.invalid".into(),
    };
    let report = run(&Network::direct(), &urls, credentials("x")).await;
    assert_eq!(
        kinds(&report),
        vec![Some(FailureKind::Refused), Some(FailureKind::Dns)],
        "{}",
        report.text()
    );
    assert!(report.lines[0]
        .explanation
        .contains("refuse la connexion : un pare-feu ou un proxy"));
    assert_eq!(
        report.lines[1].explanation,
        "Le nom particulier.guichet-qf.invalid est introuvable (DNS) : le poste ne sait pas où \
         est API Particulier."
    );

    let through_closed_proxy = Network::through_proxy("127.0.0.1", port, None);
    let report = run(&through_closed_proxy, &urls, credentials("x")).await;
    assert_eq!(
        kinds(&report),
        vec![Some(FailureKind::Refused); 2],
        "{}",
        report.text()
    );
    assert_eq!(
        report.lines[1].explanation,
        format!("Le proxy 127.0.0.1:{port} refuse la connexion : il n'écoute pas sur ce port.")
    );
    assert!(
        report.lines[0]
            .explanation
            .starts_with("Hubee (127.0.0.1) refuse la connexion"),
        "this PC is never reached through the proxy: {}",
        report.lines[0].explanation
    );
}

/// A proxy that wants `agent:secret` in Basic: 407 otherwise; with them, it answers every
/// request (plain or CONNECT) with the ping's own answer, as if it had forwarded it.
async fn proxy_wanting_credentials() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let first = head.lines().next().unwrap_or_default().to_string();
                log.lock().unwrap().push(first.clone());
                // "agent:secret" in base64.
                let authorised = head.lines().any(|line| {
                    line.eq_ignore_ascii_case("proxy-authorization: Basic YWdlbnQ6c2VjcmV0")
                });
                let answer = if !authorised {
                    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic \
                     realm=\"mairie\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                } else {
                    let body = r#"{"status":"ok","last_update":"2026-11-23T08:00:00Z"}"#;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \
                         {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, seen)
}

/// Services only a proxy can reach (`.invalid` never resolves): Hubee over HTTPS, so that the
/// proxy answers the CONNECT, and API Particulier over plain HTTP, so that the proxy's answer is
/// the answer itself.
fn behind_a_proxy() -> ServiceUrls {
    ServiceUrls {
        hubee_auth_url: "https://auth.hubee.guichet-qf.invalid/oauth2/token".into(),
        hubee_api_url: "https://api.hubee.guichet-qf.invalid".into(),
        particulier_url: "http://particulier.guichet-qf.invalid".into(),
    }
}

/// The proxy saw both services of [`behind_a_proxy`] asked for.
#[track_caller]
fn assert_both_services_went_through(seen: &std::sync::Mutex<Vec<String>>) {
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|line| line.starts_with("CONNECT auth.hubee.guichet-qf.invalid:443")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|line| line.starts_with(
            "GET http://particulier.guichet-qf.invalid/api/cnaf_msa_quotient_familial/ping"
        )),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_proxy_asking_for_credentials_is_named_and_its_account_is_sent() {
    let (port, seen) = proxy_wanting_credentials().await;
    let urls = behind_a_proxy();
    let without = Network::through_proxy("127.0.0.1", port, None);
    let report = run(&without, &urls, credentials("x")).await;
    assert_eq!(
        kinds(&report),
        vec![Some(FailureKind::ProxyCredentials); 2],
        "{}",
        report.text()
    );
    assert!(report.lines[1]
        .advice
        .contains(&format!("proxy 127.0.0.1:{port}")));

    let wrong = Network::through_proxy(
        "127.0.0.1",
        port,
        Some(("agent".into(), Some("faux".to_string().into()))),
    );
    let report = run(&wrong, &urls, credentials("x")).await;
    assert_eq!(report.lines[1].failure, Some(FailureKind::ProxyCredentials));

    let right = Network::through_proxy(
        "127.0.0.1",
        port,
        Some(("agent".into(), Some("secret".to_string().into()))),
    );
    let report = run(&right, &urls, credentials("x")).await;
    assert!(report.lines[1].ok, "{}", report.text());
    assert_both_services_went_through(&seen);
}

/// A TLS server on loopback with a self-signed certificate for `localhost` and 127.0.0.1, as a
/// TLS-inspecting proxy would present one whose CA is not installed.
async fn self_signed_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs =
        vec![
            CertificateDer::from_pem_slice(include_bytes!("testdata/self-signed-cert.pem"))
                .unwrap(),
        ];
    let key =
        PrivateKeyDer::from_pem_slice(include_bytes!("testdata/self-signed-key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(socket).await {
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
                        )
                        .await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_with_the_french_tls_message() {
    let port = self_signed_server().await;
    let urls = ServiceUrls {
        hubee_auth_url: format!("https://localhost:{port}/oauth2/token"),
        hubee_api_url: format!("https://localhost:{port}"),
        particulier_url: format!("https://127.0.0.1:{port}"),
    };
    for network in [Network::direct(), Network::system()] {
        let report = run(&network, &urls, credentials("x")).await;
        assert_eq!(
            kinds(&report),
            vec![Some(FailureKind::Tls); 2],
            "{}",
            report.text()
        );
        assert_eq!(
            report.lines[0].explanation,
            "Le certificat présenté pour localhost n'est pas reconnu par Windows : un proxy qui \
             inspecte le trafic s'interpose probablement."
        );
        assert!(report.lines[1]
            .advice
            .contains("magasin de certificats Windows"));
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            // Accepted and kept open, never answered: what a dropping firewall looks like
            // once the connection is up.
            held.push(socket);
        }
    });
    let urls = ServiceUrls {
        hubee_auth_url: format!("http://127.0.0.1:{port}/oauth2/token"),
        hubee_api_url: format!("http://127.0.0.1:{port}"),
        particulier_url: format!("http://127.0.0.1:{port}"),
    };
    let report = check::check_connection(
        &Network::direct(),
        Target {
            commune: "Majastres",
            environment: "simulateur",
            urls: &urls,
            hubee: credentials("x"),
        },
        Duration::from_millis(400),
    )
    .await;
    assert_eq!(
        kinds(&report),
        vec![Some(FailureKind::Timeout); 2],
        "{}",
        report.text()
    );
    assert!(
        report.lines[1]
            .explanation
            .starts_with("API Particulier (127.0.0.1) ne répond pas dans le délai"),
        "{}",
        report.lines[1].explanation
    );
}

/// Serves `body` with `status` at any path, as an intranet server publishes its PAC file.
async fn pac_server(status: u16, body: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 2048];
            let _ = socket.read(&mut buffer).await;
            let answer = format!(
                "HTTP/1.1 {status} OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    port
}

fn pac_change(url: &str) -> NetworkChange {
    NetworkChange {
        settings: NetworkSettings {
            mode: ProxyMode::Pac,
            pac_url: url.into(),
            ..NetworkSettings::default()
        },
        proxy_password: None,
        forget_proxy_password: false,
    }
}

#[tokio::test]
async fn the_pac_mode_downloads_the_file_and_sends_each_service_where_it_says() {
    let (proxy_port, seen) = proxy_wanting_credentials().await;
    // The State's sites through the department's proxy; anything else through a proxy that
    // does not exist, which this PC's simulators must never be sent to.
    let script = format!(
        "function FindProxyForURL(url, host) {{\n\
           if (dnsDomainIs(host, \".guichet-qf.invalid\")) return \"PROXY 127.0.0.1:{proxy_port}\";\n\
           return \"PROXY 127.0.0.1:1\";\n\
         }}"
    );
    let port = pac_server(200, script).await;
    let pac_url = format!("http://127.0.0.1:{port}/proxy.pac");
    let (_dir, store, _commune) = crate::fixtures::store_with_commune();
    let now = Timestamp::from_second(1_795_000_000).unwrap();
    let view = save_fetching_pac(&store, None, pac_change(&pac_url), now, SHORT)
        .await
        .unwrap();
    assert_eq!(view.pac_fetched_at, Some(now));
    let network = load(&store, None).unwrap();
    assert_eq!(network.describe(), format!("fichier PAC {pac_url}"));

    let urls = behind_a_proxy();
    let report = run(&network, &urls, credentials("x")).await;
    assert_eq!(report.lines[0].service, "Fichier PAC");
    assert_eq!(
        report.lines[0].explanation,
        format!(
            "D'après le fichier PAC : Hubee par le proxy 127.0.0.1:{proxy_port}, API \
             Particulier par le proxy 127.0.0.1:{proxy_port}."
        )
    );
    // The proxy the file names was asked for both services; it wants an account, which is not
    // set yet: a 407, named as such, with advice for this mode.
    assert_eq!(
        kinds(&report)[1..],
        [Some(FailureKind::ProxyCredentials); 2],
        "{}",
        report.text()
    );
    assert!(
        report.lines[2]
            .advice
            .contains("sous l'adresse du fichier PAC"),
        "{}",
        report.lines[2].advice
    );
    assert_both_services_went_through(&seen);

    // With the account saved beside the PAC address, the proxy the file names lets both
    // services through, and the password came from the vault.
    let key = open_vault(&store, now);
    let mut change = pac_change(&pac_url);
    change.settings.proxy_username = "agent".into();
    change.proxy_password = Some("secret".into());
    save_fetching_pac(&store, Some(&key), change, now, SHORT)
        .await
        .unwrap();
    assert!(matches!(
        load(&store, None).unwrap_err().code,
        Code::VaultLocked
    ));
    let network = load(&store, Some(&key)).unwrap();
    assert_eq!(
        network.describe(),
        format!("fichier PAC {pac_url} (identifiant agent)")
    );
    seen.lock().unwrap().clear();
    let report = run(&network, &urls, credentials("x")).await;
    assert!(report.lines[2].ok, "{}", report.text());
    assert_both_services_went_through(&seen);

    // The simulators on this PC are reached directly although the file names a dead proxy.
    let sims = simulators().await;
    let report = run(&network, &sims.urls(), credentials("majastres-secret")).await;
    assert!(report.ok(), "{}", report.text());
}

#[tokio::test]
async fn a_pac_file_that_cannot_be_used_is_refused_and_nothing_is_saved() {
    let (_dir, store, _commune) = crate::fixtures::store_with_commune();
    let now = Timestamp::from_second(1_795_000_000).unwrap();
    let refused = |port: u16| {
        let change = pac_change(&format!("http://127.0.0.1:{port}/proxy.pac"));
        let store = &store;
        async move {
            save_fetching_pac(store, None, change, now, SHORT)
                .await
                .unwrap_err()
        }
    };
    let error = refused(pac_server(404, "introuvable".into()).await).await;
    assert_eq!(error.code, Code::Validation);
    assert!(
        error
            .message
            .starts_with("Adresse du fichier PAC : le serveur a répondu 404"),
        "{}",
        error.message
    );
    let error = refused(pac_server(200, "<html>Portail captif</html>".into()).await).await;
    assert!(
        error
            .message
            .contains("le fichier ne peut pas être utilisé"),
        "{}",
        error.message
    );
    let error = refused(closed_port().await).await;
    assert!(
        error.message.contains("n'a pas pu être téléchargé"),
        "{}",
        error.message
    );
    assert_eq!(store.read(get).unwrap().mode, ProxyMode::Systeme);
    assert_eq!(store.read(view).unwrap().pac_fetched_at, None);
}
