//! What the process learns from its surroundings, read once at start.
//!
//! This is the only module that reads environment variables; the domain receives the result as
//! plain values, so tests choose a data directory, a key source and a passphrase explicitly.
//!
//! | variable | effect |
//! |---|---|
//! | `GUICHET_QF_DATA_DIR` | data directory instead of the platform default (tests, portable installs) |
//! | `GUICHET_QF_KEYSTORE` | `aucun` (or `none`): do not use the OS keystore; secrets use a passphrase |
//! | `GUICHET_QF_PASSPHRASE` | the vault passphrase, for the CLI on a PC without keystore |
//! | `GUICHET_QF_LOG` | log filter (`info` by default), e.g. `guichet_qf=debug` |
//! | `GUICHET_QF_HUBEE_AUTH_URL` | Hubee token URL for every commune (full URL) |
//! | `GUICHET_QF_HUBEE_API_URL` | Hubee API origin for every commune (without `/teledossiers/v1`) |
//! | `GUICHET_QF_PARTICULIER_URL` | API Particulier origin for every commune |
//! | `GUICHET_QF_FORMULAIRE_URL` | formulaire-qf origin whose public list the poster checks (never the URL printed) |
//! | `GUICHET_QF_DEMO_ARRIVAL_SECONDS` | seconds between two fictitious dossiers in the demonstration (60) |
//! | `GUICHET_QF_DEMO_TOKEN_DAYS` | days before the demonstration's API Particulier token expires (540), to show the guardian's banners |
//!
//! Also read here from the surroundings: the local time zone (`TZ`, else the system's), for the
//! local times of the access journal, and the user's Documents folder, where the window writes
//! exports.
//!
//! Not read here, on purpose: the proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
//! In the network's `systeme` mode reqwest reads them, with Windows' Internet options, the way a
//! browser does (see `network`); the other modes ignore them.

use std::path::PathBuf;

use crate::endpoints::{self, Overrides};
use crate::error::{Code, Error, Result};
use crate::store::DATABASE_FILE;
use crate::vault::{Keystore, NoKeystore, OsKeystore, SecretString};

pub struct Launch {
    pub data_dir: PathBuf,
    pub use_os_keystore: bool,
    pub passphrase: Option<SecretString>,
    pub log_filter: String,
    pub endpoints: Overrides,
    /// formulaire-qf's origin, for the poster's check of its public list of communes.
    pub formulaire_url: String,
    /// How often a fictitious family sends the form during the demonstration.
    pub demo_arrival_period: std::time::Duration,
    /// How long the demonstration's API Particulier token lives from the start.
    pub demo_token_lifetime: jiff::SignedDuration,
    /// The PC's time zone, for local times (journal export, date filters).
    pub time_zone: jiff::tz::TimeZone,
    /// Where the window writes exports: the user's Documents folder, else the home folder, else
    /// the data directory.
    pub documents_dir: PathBuf,
    /// The user's home folder, written as `~` in the support information (see `support`).
    pub home_dir: Option<PathBuf>,
}

/// A new fictitious dossier every minute in the demonstration, unless the launch says otherwise.
pub const DEFAULT_DEMO_ARRIVAL_SECONDS: u64 = 60;

/// The demonstration's token lives as long as a real one (18 months) unless the launch says
/// otherwise.
pub const DEFAULT_DEMO_TOKEN_DAYS: u64 = 18 * 30;

/// A whole number from `variable` within `bounds`, `None` when unset or empty.
fn bounded_number(
    variable: &str,
    bounds: std::ops::RangeInclusive<u64>,
    expected: &str,
) -> Result<Option<u64>> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|number| bounds.contains(number))
            .map(Some)
            .ok_or_else(|| Error::validation(format!("{variable} doit être {expected}."))),
        _ => Ok(None),
    }
}

impl Launch {
    pub fn from_env() -> Result<Launch> {
        let data_dir = match std::env::var_os("GUICHET_QF_DATA_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => directories::ProjectDirs::from("fr", "", "Guichet QF")
                .map(|dirs| dirs.data_dir().to_path_buf())
                .ok_or_else(|| {
                    Error::new(
                        Code::Storage,
                        "Le dossier personnel de l'utilisateur est introuvable : définissez \
                         GUICHET_QF_DATA_DIR.",
                    )
                })?,
        };
        let use_os_keystore = !matches!(
            std::env::var("GUICHET_QF_KEYSTORE").as_deref(),
            Ok("aucun" | "none")
        );
        let passphrase = std::env::var("GUICHET_QF_PASSPHRASE")
            .ok()
            .filter(|value| !value.is_empty())
            .map(SecretString::from);
        let log_filter = std::env::var("GUICHET_QF_LOG").unwrap_or_else(|_| "info".into());
        let url = |variable: &str| -> Result<Option<String>> {
            match std::env::var(variable) {
                Ok(value) if !value.trim().is_empty() => {
                    endpoints::parse_base_url(variable, &value).map(Some)
                }
                _ => Ok(None),
            }
        };
        let endpoints = Overrides {
            hubee_auth_url: url("GUICHET_QF_HUBEE_AUTH_URL")?,
            hubee_api_url: url("GUICHET_QF_HUBEE_API_URL")?,
            particulier_url: url("GUICHET_QF_PARTICULIER_URL")?,
        };
        let formulaire_url = url("GUICHET_QF_FORMULAIRE_URL")?
            .unwrap_or_else(|| crate::poster::FORM_BASE_URL.to_string());
        let demo_arrival_seconds = bounded_number(
            "GUICHET_QF_DEMO_ARRIVAL_SECONDS",
            1..=86_400,
            "un nombre de secondes entre 1 et 86 400",
        )?
        .unwrap_or(DEFAULT_DEMO_ARRIVAL_SECONDS);
        let demo_token_days = bounded_number(
            "GUICHET_QF_DEMO_TOKEN_DAYS",
            0..=3_650,
            "un nombre de jours entre 0 et 3 650",
        )?
        .unwrap_or(DEFAULT_DEMO_TOKEN_DAYS);
        let time_zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        let user_dirs = directories::UserDirs::new();
        let documents_dir = user_dirs
            .as_ref()
            .map(|dirs| dirs.document_dir().unwrap_or(dirs.home_dir()).to_path_buf())
            .unwrap_or_else(|| data_dir.clone());
        let home_dir = user_dirs.map(|dirs| dirs.home_dir().to_path_buf());
        Ok(Launch {
            data_dir,
            use_os_keystore,
            passphrase,
            log_filter,
            endpoints,
            formulaire_url,
            demo_arrival_period: std::time::Duration::from_secs(demo_arrival_seconds),
            demo_token_lifetime: jiff::SignedDuration::from_hours(demo_token_days as i64 * 24),
            time_zone,
            documents_dir,
            home_dir,
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    pub fn keystore(&self) -> Box<dyn Keystore> {
        if self.use_os_keystore {
            Box::new(OsKeystore)
        } else {
            Box::new(NoKeystore)
        }
    }
}
