//! Where a commune's calls go: the base URLs of Hubee and API Particulier.
//!
//! Each environment has its published addresses (`hubee.md` §2, `api-particulier.md` §1); the
//! simulators' addresses are only known once they run. An administrator or a test may replace
//! them for every commune at launch (`GUICHET_QF_HUBEE_AUTH_URL`, `GUICHET_QF_HUBEE_API_URL`,
//! `GUICHET_QF_PARTICULIER_URL`, read by `launch.rs`). HTTP clients receive the resolved URLs
//! as arguments and never know whether they talk to the State or to a simulator.

use crate::communes::Environment;
use crate::error::{Code, Error, Result};

/// The three base URLs a commune's clients need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrls {
    /// The full OAuth2 token URL of Hubee.
    pub hubee_auth_url: String,
    /// The Hubee API origin, without `/teledossiers/v1`.
    pub hubee_api_url: String,
    /// The API Particulier origin.
    pub particulier_url: String,
}

/// URLs given at launch that replace every commune's, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub hubee_auth_url: Option<String>,
    pub hubee_api_url: Option<String>,
    pub particulier_url: Option<String>,
}

/// The State's published addresses for an environment; `None` for the simulators.
pub fn published(environment: Environment) -> Option<ServiceUrls> {
    let (auth, api, particulier) = match environment {
        Environment::Production => (
            "https://auth.hubee.numerique.gouv.fr/oauth2/token",
            "https://api.hubee.numerique.gouv.fr",
            "https://particulier.api.gouv.fr",
        ),
        Environment::BacASable => (
            "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token",
            "https://api.bas.hubee.numerique.gouv.fr",
            "https://staging.particulier.api.gouv.fr",
        ),
        Environment::Simulateur => return None,
    };
    Some(ServiceUrls {
        hubee_auth_url: auth.into(),
        hubee_api_url: api.into(),
        particulier_url: particulier.into(),
    })
}

/// Checks a URL given by an administrator and drops a trailing slash, so that paths can be
/// appended without doubling it.
pub fn parse_base_url(variable: &str, value: &str) -> Result<String> {
    let trimmed = value.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| {
        Error::validation(format!(
            "{variable} n'est pas une adresse web valide : « {value} » (exemple : \
             https://particulier.api.gouv.fr)."
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::validation(format!(
            "{variable} doit être une adresse http ou https : « {value} »."
        )));
    }
    Ok(trimmed.to_string())
}

/// The URLs a commune of `environment` uses: the launch overrides first, then the running
/// simulators (for the simulator environment) or the published addresses.
pub fn resolve(
    environment: Environment,
    overrides: &Overrides,
    simulators: Option<&ServiceUrls>,
) -> Result<ServiceUrls> {
    let base = match environment {
        Environment::Simulateur => simulators.cloned(),
        other => published(other),
    };
    let pick = |given: &Option<String>, fallback: Option<&String>| -> Result<String> {
        given.clone().or_else(|| fallback.cloned()).ok_or_else(|| {
            Error::new(
                Code::NotFound,
                "Cette commune utilise les simulateurs, qui ne sont pas démarrés : lancez le mode \
                 démonstration ou « guichet-qf simulateur ».",
            )
        })
    };
    Ok(ServiceUrls {
        hubee_auth_url: pick(
            &overrides.hubee_auth_url,
            base.as_ref().map(|b| &b.hubee_auth_url),
        )?,
        hubee_api_url: pick(
            &overrides.hubee_api_url,
            base.as_ref().map(|b| &b.hubee_api_url),
        )?,
        particulier_url: pick(
            &overrides.particulier_url,
            base.as_ref().map(|b| &b.particulier_url),
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulators() -> ServiceUrls {
        ServiceUrls {
            hubee_auth_url: "http://127.0.0.1:4001/oauth2/token".into(),
            hubee_api_url: "http://127.0.0.1:4001".into(),
            particulier_url: "http://127.0.0.1:4002".into(),
        }
    }

    #[test]
    fn each_environment_has_its_addresses() {
        let none = Overrides::default();
        let production = resolve(Environment::Production, &none, None).unwrap();
        assert_eq!(
            production.particulier_url,
            "https://particulier.api.gouv.fr"
        );
        assert_eq!(
            production.hubee_auth_url,
            "https://auth.hubee.numerique.gouv.fr/oauth2/token"
        );
        let sandbox = resolve(Environment::BacASable, &none, Some(&simulators())).unwrap();
        assert_eq!(
            sandbox.hubee_api_url,
            "https://api.bas.hubee.numerique.gouv.fr"
        );
        assert_eq!(
            resolve(Environment::Simulateur, &none, Some(&simulators())).unwrap(),
            simulators()
        );
        let error = resolve(Environment::Simulateur, &none, None).unwrap_err();
        assert!(error.message.contains("pas démarrés"), "{}", error.message);
    }

    #[test]
    fn overrides_replace_field_by_field_for_every_environment() {
        let overrides = Overrides {
            particulier_url: Some("http://127.0.0.1:9999".into()),
            ..Overrides::default()
        };
        let urls = resolve(Environment::Production, &overrides, None).unwrap();
        assert_eq!(urls.particulier_url, "http://127.0.0.1:9999");
        assert_eq!(urls.hubee_api_url, "https://api.hubee.numerique.gouv.fr");
        // Overrides alone are enough for the simulator environment when they cover everything.
        let all = Overrides {
            hubee_auth_url: Some("http://127.0.0.1:1/oauth2/token".into()),
            hubee_api_url: Some("http://127.0.0.1:1".into()),
            particulier_url: Some("http://127.0.0.1:2".into()),
        };
        assert!(resolve(Environment::Simulateur, &all, None).is_ok());
    }

    #[test]
    fn base_urls_are_checked_and_lose_their_trailing_slash() {
        assert_eq!(
            parse_base_url("GUICHET_QF_PARTICULIER_URL", "http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in ["", "particulier.api.gouv.fr", "ftp://exemple.fr", "http://"] {
            let error = parse_base_url("GUICHET_QF_PARTICULIER_URL", bad).unwrap_err();
            assert!(
                error.message.contains("GUICHET_QF_PARTICULIER_URL"),
                "{bad}"
            );
        }
    }
}
