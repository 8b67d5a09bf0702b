//! « À propos » and the support information.
//!
//! When something goes wrong in a town hall, the secretary calls or writes to whoever helps her:
//! the intercommunal IT service, a colleague in the next commune, the project. The first
//! questions are always the same: which version, where the data and the log file are, which
//! network mode, which environment each commune uses. So the window shows the answers, and it
//! builds one block of text that she can paste into an email.
//!
//! That block goes to people outside the town hall, so it holds no personal data and no secret:
//! - no family and no agent name;
//! - no token and no credential, only whether each one is configured;
//! - no proxy account;
//! - the user's home folder is written as `~`, because on Windows that folder is usually named
//!   after the agent.
//!
//! Commune names and SIRET numbers are public. The CLI's `a-propos` prints the same text.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use crate::communes;
use crate::error::Result;
use crate::logging;
use crate::network::{self, ProxyMode};
use crate::store::{self, Store};
use crate::vault::{self, KeySource, SecretKind};

/// The version built into this program.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the caller knows of the running installation: the shell or the CLI passes it in, so
/// this module reads no environment variables.
pub struct Installation<'a> {
    pub data_dir: &'a Path,
    /// The user's home folder, which is written as `~` in the text for support.
    pub home_dir: Option<&'a Path>,
    /// The web view's engine and version (WebKitGTK, WebView2). `None` in the CLI.
    pub webview: Option<String>,
    /// Whether the OS keystore answers on this PC.
    pub keystore_available: bool,
    pub demo: bool,
}

/// What « À propos » shows. The paths are full paths, because the agent reads them on her own
/// screen. `support_text` is what "Copier les informations pour le support" copies, and it is
/// shown as well, so that she sees what she sends.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct About {
    pub version: String,
    /// The operating system and processor the program was built for, e.g. `windows x86_64`.
    pub system: String,
    pub webview: Option<String>,
    pub data_dir: String,
    pub database_file: String,
    pub log_dir: String,
    /// The newest log file, `None` before anything was logged.
    pub log_file: Option<String>,
    pub support_text: String,
}

/// A commune as support needs to see it: public identifiers, its environment, and whether each
/// secret is configured (never the secret).
struct CommuneFacts {
    name: String,
    siret: String,
    environment: &'static str,
    hubee_configured: bool,
    particulier_configured: bool,
}

/// What the database tells support, read in one go.
struct DatabaseFacts {
    schema_version: i64,
    vault: Option<KeySource>,
    network: network::NetworkSettings,
    communes: Vec<CommuneFacts>,
}

fn database_facts(store: &Store) -> Result<DatabaseFacts> {
    store.read(|conn| {
        let schema_version: i64 =
            conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let communes = communes::list(conn)?
            .into_iter()
            .map(|commune| {
                let configured = vault::statuses(conn, commune.id)?
                    .into_iter()
                    .filter(|status| status.configured_at.is_some())
                    .map(|status| status.kind)
                    .collect::<Vec<_>>();
                Ok(CommuneFacts {
                    hubee_configured: configured.contains(&SecretKind::HubeeClientId)
                        && configured.contains(&SecretKind::HubeeClientSecret),
                    particulier_configured: configured.contains(&SecretKind::ParticulierToken),
                    environment: commune.environment.label(),
                    name: commune.name,
                    siret: commune.siret,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DatabaseFacts {
            schema_version,
            vault: vault::source(conn)?,
            network: network::get(conn)?,
            communes,
        })
    })
}

/// `path` with the home folder written as `~`, for text that leaves the town hall.
fn without_home(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if rest.as_os_str().is_empty() => "~".to_string(),
        Some(rest) => format!("~{}{}", std::path::MAIN_SEPARATOR, rest.display()),
        None => path.display().to_string(),
    }
}

/// A size in bytes the way a French reader expects it: `850 octets`, `12,4 Ko`, `3,1 Mo`.
fn size_label(bytes: u64) -> String {
    const KILO: f64 = 1024.0;
    let value = bytes as f64;
    let (amount, unit) = if value < KILO {
        return format!("{bytes} octets");
    } else if value < KILO * KILO {
        (value / KILO, "Ko")
    } else if value < KILO * KILO * KILO {
        (value / KILO / KILO, "Mo")
    } else {
        (value / KILO / KILO / KILO, "Go")
    };
    format!("{amount:.1} {unit}").replace('.', ",")
}

fn network_line(settings: &network::NetworkSettings) -> String {
    match settings.mode {
        ProxyMode::Systeme => "proxy des réglages du système".to_string(),
        ProxyMode::Aucun => "aucun proxy (connexion directe)".to_string(),
        ProxyMode::Manuel => format!(
            "proxy manuel {}:{}{}",
            settings.proxy_host,
            settings.proxy_port,
            with_account(settings)
        ),
        ProxyMode::Pac => format!("fichier PAC {}{}", settings.pac_url, with_account(settings)),
    }
}

/// Whether a proxy account is set, never its name: the support text names no one.
fn with_account(settings: &network::NetworkSettings) -> &'static str {
    if settings.proxy_username.is_empty() {
        ""
    } else {
        ", avec identifiant"
    }
}

/// What « À propos » shows, from the installation and the database when it could be opened
/// (`None` on the recovery screen, or when the CLI cannot open it: the text then says so).
pub fn about(installation: &Installation<'_>, store: Option<&Store>) -> About {
    let database_path = installation.data_dir.join(store::DATABASE_FILE);
    let log_dir = logging::log_dir(installation.data_dir);
    let log_file = logging::latest_file(installation.data_dir);
    let system = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let home = installation.home_dir;

    let mut lines = vec![
        format!("Guichet QF {VERSION}"),
        format!("Système : {system}"),
    ];
    if let Some(webview) = &installation.webview {
        lines.push(format!("Moteur d'affichage : {webview}"));
    }
    lines.push(format!(
        "Dossier des données : {}",
        without_home(installation.data_dir, home)
    ));
    lines.push(format!(
        "Journaux techniques : {}{}",
        without_home(&log_dir, home),
        match &log_file {
            Some(file) => format!(
                " (dernier : {})",
                file.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => " (aucun fichier encore)".to_string(),
        }
    ));
    let size = std::fs::metadata(&database_path)
        .map(|metadata| size_label(metadata.len()))
        .unwrap_or_else(|_| "absente".to_string());
    lines.push(format!(
        "Mode démonstration : {}",
        if installation.demo { "oui" } else { "non" }
    ));
    match store.map(database_facts) {
        Some(Ok(facts)) => {
            lines.push(format!(
                "Base de données : {size}, schéma {} (version attendue {})",
                facts.schema_version,
                store::SCHEMA_VERSION
            ));
            lines.push(format!(
                "Coffre des secrets : {}{}",
                match facts.vault {
                    Some(KeySource::Keystore) => "clé dans le trousseau du système",
                    Some(KeySource::Passphrase) => "clé tirée d'une phrase de passe",
                    None => "pas encore créé",
                },
                if installation.keystore_available {
                    ""
                } else {
                    " ; trousseau du système indisponible sur ce poste"
                }
            ));
            lines.push(format!("Réseau : {}", network_line(&facts.network)));
            if facts.communes.is_empty() {
                lines.push("Communes : aucune".to_string());
            } else {
                lines.push(format!("Communes ({}) :", facts.communes.len()));
                let configured = |yes: bool| if yes { "oui" } else { "non" };
                lines.extend(facts.communes.iter().map(|commune| {
                    format!(
                        "- {} (SIRET {}), {} ; identifiants Hubee : {} ; jeton API Particulier : {}",
                        commune.name,
                        commune.siret,
                        commune.environment,
                        configured(commune.hubee_configured),
                        configured(commune.particulier_configured),
                    )
                }));
            }
        }
        Some(Err(error)) => lines.push(format!(
            "Base de données : {size}, illisible : {}",
            error.message
        )),
        None => lines.push(format!("Base de données : {size}, non ouverte")),
    }

    About {
        version: VERSION.to_string(),
        system,
        webview: installation.webview.clone(),
        data_dir: installation.data_dir.display().to_string(),
        database_file: database_path.display().to_string(),
        log_dir: log_dir.display().to_string(),
        log_file: log_file.map(|file| file.display().to_string()),
        support_text: lines.join("\n") + "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{self, NewAgent, Role};
    use crate::communes::{Environment, NewCommune};
    use crate::vault::SecretString;
    use jiff::Timestamp;

    const NOW: &str = "2026-11-23T09:00:00Z";

    fn installation<'a>(data_dir: &'a Path, home: &'a Path) -> Installation<'a> {
        Installation {
            data_dir,
            home_dir: Some(home),
            webview: Some("WebKitGTK 2.48.0".to_string()),
            keystore_available: false,
            demo: false,
        }
    }

    /// A home folder named after the agent, as on Windows, holding the data directory.
    fn home_with_data() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("marie.lefevre");
        let data_dir = home.join("donnees").join("Guichet QF");
        std::fs::create_dir_all(&data_dir).unwrap();
        (root, home, data_dir)
    }

    #[test]
    fn the_support_text_names_the_installation_and_no_person_and_no_secret() {
        let (_root, home, data_dir) = home_with_data();
        let now: Timestamp = NOW.parse().unwrap();
        let store = store::open(&data_dir.join(store::DATABASE_FILE)).unwrap();
        agents::add(
            &store,
            &NewAgent {
                name: "Sandrine Maréchal".into(),
                role: Role::Administrateur,
                pin: "482913".into(),
            },
            now,
        )
        .unwrap();
        let commune = communes::add(
            &store,
            &NewCommune {
                siret: "21250056500016".into(),
                name: "Besançon".into(),
                cog: "25056".into(),
                environment: Environment::BacASable,
            },
            now,
        )
        .unwrap();
        communes::add(
            &store,
            &NewCommune {
                siret: "21390198200016".into(),
                name: "Lons-le-Saunier".into(),
                cog: "39300".into(),
                environment: Environment::Production,
            },
            now,
        )
        .unwrap();
        let passphrase = SecretString::from("cheval agrafe batterie correcte".to_string());
        let key = vault::init_with_passphrase(&store, &passphrase, now).unwrap();
        let token = "eyJhbGciOiJIUzI1NiJ9.un-jeton-de-la-commune.signature";
        vault::set(
            &store,
            &key,
            commune.id,
            SecretKind::ParticulierToken,
            &SecretString::from(token.to_string()),
            now,
        )
        .unwrap();
        for (kind, value) in [
            (SecretKind::HubeeClientId, "client-id-de-besancon"),
            (
                SecretKind::HubeeClientSecret,
                "cle-secrete-de-besancon-0123456789",
            ),
        ] {
            vault::set(
                &store,
                &key,
                commune.id,
                kind,
                &SecretString::from(value.to_string()),
                now,
            )
            .unwrap();
        }
        network::save(
            &store,
            Some(&key),
            network::NetworkChange {
                settings: network::NetworkSettings {
                    mode: ProxyMode::Manuel,
                    proxy_host: "proxy.departement.fr".into(),
                    proxy_port: "3128".into(),
                    proxy_username: "s.marechal".into(),
                    pac_url: String::new(),
                },
                proxy_password: Some("mot-de-passe-du-proxy".into()),
                forget_proxy_password: false,
            },
            now,
        )
        .unwrap();
        std::fs::create_dir_all(logging::log_dir(&data_dir)).unwrap();
        for day in ["2026-11-21", "2026-11-23", "2026-11-22"] {
            std::fs::write(
                logging::log_dir(&data_dir).join(format!("guichet-qf.{day}.log")),
                "",
            )
            .unwrap();
        }

        let about = about(&installation(&data_dir, &home), Some(&store));
        let text = &about.support_text;

        assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
        assert!(text.starts_with(&format!("Guichet QF {}\n", env!("CARGO_PKG_VERSION"))));
        assert!(
            text.contains("Moteur d'affichage : WebKitGTK 2.48.0"),
            "{text}"
        );
        let sep = std::path::MAIN_SEPARATOR;
        assert!(
            text.contains(&format!(
                "Dossier des données : ~{sep}donnees{sep}Guichet QF\n"
            )),
            "{text}"
        );
        assert!(
            text.contains("(dernier : guichet-qf.2026-11-23.log)"),
            "{text}"
        );
        assert_eq!(
            about.log_file.as_deref(),
            Some(
                logging::log_dir(&data_dir)
                    .join("guichet-qf.2026-11-23.log")
                    .to_str()
                    .unwrap()
            )
        );
        assert_eq!(about.data_dir, data_dir.display().to_string());
        assert!(
            text.contains(&format!(
                "schéma {0} (version attendue {0})",
                store::SCHEMA_VERSION
            )),
            "{text}"
        );
        assert!(
            text.contains("clé tirée d'une phrase de passe ; trousseau du système indisponible")
        );
        assert!(text.contains("Réseau : proxy manuel proxy.departement.fr:3128, avec identifiant"));
        assert!(text.contains(
            "- Besançon (SIRET 21250056500016), bac à sable ; identifiants Hubee : oui ; \
             jeton API Particulier : oui"
        ));
        assert!(text.contains(
            "- Lons-le-Saunier (SIRET 21390198200016), production ; identifiants Hubee : non ; \
             jeton API Particulier : non"
        ));
        for private in [
            "marie.lefevre",
            "Sandrine",
            "Maréchal",
            "s.marechal",
            "mot-de-passe-du-proxy",
            "482913",
            "cheval",
            token,
            "client-id-de-besancon",
            "cle-secrete-de-besancon",
        ] {
            assert!(
                !text.contains(private),
                "{private:?} in the support text:\n{text}"
            );
        }
    }

    #[test]
    fn without_a_database_the_text_still_tells_where_things_are() {
        let (_root, home, data_dir) = home_with_data();
        let about = about(&installation(&data_dir, &home), None);
        assert!(about
            .support_text
            .contains("Base de données : absente, non ouverte"));
        assert!(about.support_text.contains("(aucun fichier encore)"));
        assert_eq!(about.log_file, None);
    }

    #[test]
    fn sizes_read_the_french_way() {
        assert_eq!(size_label(850), "850 octets");
        assert_eq!(size_label(12_700), "12,4 Ko");
        assert_eq!(size_label(3_250_000), "3,1 Mo");
    }
}
