//! `guichet-qf reseau tester`: the window's "Tester la connexion" on the command line, against
//! the simulators and a closed port, with the real binary.

mod common;

use std::path::Path;
use std::process::Output;

use guichet_qf::simulators::hubee::{self, Credentials, HubeeSimulator};
use guichet_qf::simulators::particulier::{self, ParticulierSimulator};

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

const PASSPHRASE: &str = "la mairie ouvre à 9h";
const SIRET: &str = "21040107100019";
const COG: &str = "04107";

async fn cli(dir: &Path, args: &[&str], stdin: &str, hubee: &str, particulier: &str) -> Output {
    let env = vec![
        ("GUICHET_QF_KEYSTORE", "aucun".to_string()),
        ("GUICHET_QF_PASSPHRASE", PASSPHRASE.to_string()),
        ("GUICHET_QF_HUBEE_AUTH_URL", format!("{hubee}/oauth2/token")),
        ("GUICHET_QF_HUBEE_API_URL", hubee.to_string()),
        ("GUICHET_QF_PARTICULIER_URL", particulier.to_string()),
    ];
    common::run_off_runtime(dir, args, stdin, env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_prints_one_line_per_service_and_fails_with_exit_1() {
    let hubee_sim = HubeeSimulator::start(0, hubee::Config::default())
        .await
        .unwrap();
    hubee_sim.add_subscriber(
        SIRET,
        COG,
        &Credentials {
            client_id: "client-majastres".into(),
            client_secret: "secret-majastres".into(),
        },
    );
    let particulier_sim = ParticulierSimulator::start(0, particulier::Config::default())
        .await
        .unwrap();
    let hubee = hubee_sim.api_url();
    assert_eq!(hubee_sim.auth_url(), format!("{hubee}/oauth2/token"));
    let particulier = particulier_sim.url();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_ok(&cli(data, &ADD_MAJASTRES, "", &hubee, &particulier).await);

    // No credentials yet: Hubee is reached but cannot be tested further.
    let output = cli(data, &["reseau", "tester"], "", &hubee, &particulier).await;
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("Test de connexion de Majastres (production), réglages du système\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "Hubee : jeton d'accès : échec — Hubee répond, mais les identifiants Hubee de la \
             commune ne sont pas configurés."
        ),
        "{text}"
    );
    assert!(
        text.contains("  À faire : Renseignez l'identifiant client et la clé secrète"),
        "{text}"
    );
    assert!(
        text.contains(
            "API Particulier : disponibilité du quotient familial : réussi — API Particulier \
             répond"
        ),
        "{text}"
    );
    assert!(
        stderr(&output).contains("Au moins une vérification a échoué"),
        "{}",
        stderr(&output)
    );

    for (kind, value) in [
        ("hubee-client-id", "client-majastres"),
        ("hubee-client-secret", "secret-majastres"),
    ] {
        assert_ok(&cli(data, &["secret", "set", kind], value, &hubee, &particulier).await);
    }
    let output = cli(
        data,
        &["reseau", "tester", "--commune", SIRET],
        "",
        &hubee,
        &particulier,
    )
    .await;
    assert_ok(&output);
    let text = stdout(&output);
    assert!(text.contains("Hubee : jeton d'accès : réussi"), "{text}");
    assert!(!text.contains("échec"), "{text}");

    // API Particulier on a port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let nowhere = format!("http://127.0.0.1:{closed}");
    let output = cli(data, &["reseau", "tester"], "", &hubee, &nowhere).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("Hubee : jeton d'accès : réussi"), "{text}");
    assert!(
        text.contains(
            "API Particulier : disponibilité du quotient familial : échec — API Particulier \
             (127.0.0.1) refuse la connexion : un pare-feu ou un proxy bloque le passage."
        ),
        "{text}"
    );
}

/// A proxy that answers 407 unless it gets `agent:secret` in Basic, and then the ping's own
/// answer, as if it had forwarded the request. It records the request lines it saw.
async fn proxy_wanting_credentials() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
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
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_string());
                // "agent:secret" in base64.
                let authorised = head.lines().any(|line| {
                    line.eq_ignore_ascii_case("proxy-authorization: Basic YWdlbnQ6c2VjcmV0")
                });
                let answer = if authorised {
                    let body = r#"{"status":"ok","last_update":"2026-11-23T08:00:00Z"}"#;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \
                         {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic \
                     realm=\"mairie\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manual_proxy_set_on_the_command_line_is_used_with_its_password() {
    let (port, seen) = proxy_wanting_credentials().await;
    let port_text = port.to_string();
    // Names that only the proxy could resolve: nothing reaches them directly.
    let hubee = "http://hubee.guichet-qf.invalid";
    let particulier = "http://particulier.guichet-qf.invalid";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_ok(&cli(data, &ADD_MAJASTRES, "", hubee, particulier).await);

    let bad = cli(
        data,
        &[
            "reseau",
            "regler",
            "--mode",
            "manuel",
            "--hote",
            "http://proxy",
            "--port",
            "0",
        ],
        "",
        hubee,
        particulier,
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("Adresse du proxy : saisissez seulement le nom")
            && stderr(&bad).contains("Port du proxy : un nombre entre 1 et 65 535"),
        "{}",
        stderr(&bad)
    );

    let set = cli(
        data,
        &[
            "reseau",
            "regler",
            "--mode",
            "manuel",
            "--hote",
            "127.0.0.1",
            "--port",
            &port_text,
            "--identifiant",
            "agent",
        ],
        "",
        hubee,
        particulier,
    )
    .await;
    assert_ok(&set);
    let output = cli(data, &["reseau", "tester"], "", hubee, particulier).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!(
            "Test de connexion de Majastres (production), proxy 127.0.0.1:{port} (identifiant \
             agent)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "API Particulier : disponibilité du quotient familial : échec — Le proxy demande un \
             identifiant et un mot de passe (HTTP 407)"
        ),
        "{text}"
    );

    let set = cli(
        data,
        &["reseau", "regler", "--mode", "manuel", "--mot-de-passe"],
        "secret",
        hubee,
        particulier,
    )
    .await;
    assert_ok(&set);
    assert!(
        stdout(&set).contains("Mot de passe : configuré le"),
        "{}",
        stdout(&set)
    );
    assert!(!stdout(&set).contains("secret"), "{}", stdout(&set));
    let output = cli(data, &["reseau", "tester"], "", hubee, particulier).await;
    let text = stdout(&output);
    assert!(
        text.contains("API Particulier : disponibilité du quotient familial : réussi"),
        "{text}"
    );
    assert!(
        seen.lock().unwrap().iter().any(|line| line
            == "GET http://particulier.guichet-qf.invalid/api/cnaf_msa_quotient_familial/ping HTTP/1.1"),
        "{:?}",
        seen.lock().unwrap()
    );

    // Back to the system's settings: the proxy is no longer used.
    assert_ok(
        &cli(
            data,
            &["reseau", "regler", "--mode", "systeme"],
            "",
            hubee,
            particulier,
        )
        .await,
    );
    let shown = cli(data, &["reseau", "afficher"], "", hubee, particulier).await;
    assert_eq!(stdout(&shown), "Proxy : réglages du système\n");

    // A PAC file that names the same proxy: the account kept from the manual mode goes to it.
    let pac_url = format!(
        "http://127.0.0.1:{}/proxy.pac",
        pac_server(format!(
            "function FindProxyForURL(url, host) {{ return \"PROXY 127.0.0.1:{port}\"; }}"
        ))
        .await
    );
    seen.lock().unwrap().clear();
    let set = cli(
        data,
        &["reseau", "regler", "--mode", "pac", "--pac", &pac_url],
        "",
        hubee,
        particulier,
    )
    .await;
    assert_ok(&set);
    let text = stdout(&set);
    assert!(
        text.contains(&format!("Proxy : fichier PAC {pac_url}, téléchargé le"))
            && text.contains("Identifiant : agent\nMot de passe : configuré le"),
        "{text}"
    );
    let output = cli(data, &["reseau", "tester"], "", hubee, particulier).await;
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!(
            "Test de connexion de Majastres (production), fichier PAC {pac_url} (identifiant \
             agent)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("API Particulier : disponibilité du quotient familial : réussi"),
        "{text}"
    );
    assert!(
        seen.lock().unwrap().iter().any(|line| line
            == "GET http://particulier.guichet-qf.invalid/api/cnaf_msa_quotient_familial/ping HTTP/1.1"),
        "{:?}",
        seen.lock().unwrap()
    );
}

/// Serves `script` as a PAC file at any path, to any number of downloads.
async fn pac_server(script: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 2048];
            let _ = socket.read(&mut buffer).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{script}",
                script.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    port
}
