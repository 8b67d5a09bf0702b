//! The token guardian: when the commune's API Particulier token expires, and what it may read.
//!
//! A token lives 18 months and only the DataPass *demandeur* (often the mayor or the DGS, not
//! the agent at the counter) can extend it; the day it expires, every counter lookup fails with
//! 401 `00103`. So the window warns well before (90, 30 and 7 days), naming who must act, and
//! blocks once expired (spec `api-particulier.md` §3.2).
//!
//! The expiry comes from the server first: `/v3/token/introspect` reads the server's database,
//! which knows about prolongations. Where that route does not exist (404), the JWT's own `exp`
//! claim is read locally — it may be stale after a prolongation, which the warning says — and
//! `/api/introspect` gives the scopes (spec §3.3). Nothing here reads the clock.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::{LookupError, ParticulierClient};
use crate::error::Result;
use crate::vault::{ExposeSecret, SecretString};

/// The introspection routes, newest first.
pub const INTROSPECT_V3: &str = "/v3/token/introspect";
pub const INTROSPECT_V2: &str = "/api/introspect";

/// Days before expiry at which the warning starts, then grows more urgent.
pub const WARNING_DAYS: [i64; 3] = [90, 30, 7];

/// Where the expiry date was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExpirySource {
    /// The server's own record (`/v3/token/introspect`).
    Serveur,
    /// The token's `exp` claim: may predate a prolongation.
    Jeton,
    /// Neither said: the token may have no expiry at all.
    Inconnue,
}

/// What is known about a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TokenInfo {
    #[ts(type = "string | null")]
    pub expires_at: Option<Timestamp>,
    pub source: ExpirySource,
    pub scopes: Vec<String>,
    /// The DataPass habilitation, where the demandeur asks for the prolongation.
    pub datapass_url: Option<String>,
}

/// Asks the server about the client's token, falling back to the token's claims.
pub async fn inspect(
    client: &ParticulierClient,
    token: &SecretString,
) -> std::result::Result<TokenInfo, LookupError> {
    let (_, body, v3) = client.introspect().await?;
    let claims = jwt_claims(token);
    Ok(if v3 {
        read_v3(&body, claims.as_ref())
    } else {
        read_v2(&body, claims.as_ref())
    })
}

/// The claims of a JWT, decoded without checking the signature (a shared secret the client
/// does not have; only the server can verify it).
pub fn jwt_claims(token: &SecretString) -> Option<Value> {
    use base64::Engine;
    let payload = token.expose_secret().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn claim_expiry(claims: Option<&Value>) -> Option<Timestamp> {
    claims?
        .get("exp")?
        .as_i64()
        .and_then(|second| Timestamp::from_second(second).ok())
}

fn scopes_of(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `/v3/token/introspect`; a missing date falls back to the claim.
pub fn read_v3(body: &[u8], claims: Option<&Value>) -> TokenInfo {
    let root: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let data = root.get("data");
    let server = data
        .and_then(|d| d.get("date_expiration"))
        .and_then(Value::as_str)
        .and_then(parse_instant);
    let (expires_at, source) = match (server, claim_expiry(claims)) {
        (Some(at), _) => (Some(at), ExpirySource::Serveur),
        (None, Some(at)) => (Some(at), ExpirySource::Jeton),
        (None, None) => (None, ExpirySource::Inconnue),
    };
    let datapass_url = root
        .get("links")
        .and_then(|l| l.get("datapass"))
        .and_then(Value::as_str)
        .map(str::to_string);
    TokenInfo {
        expires_at,
        source,
        scopes: scopes_of(data.and_then(|d| d.get("scopes"))),
        datapass_url,
    }
}

/// Reads `/api/introspect` (scopes only) with the claim's expiry.
pub fn read_v2(body: &[u8], claims: Option<&Value>) -> TokenInfo {
    let root: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let expires_at = claim_expiry(claims);
    TokenInfo {
        expires_at,
        source: if expires_at.is_some() {
            ExpirySource::Jeton
        } else {
            ExpirySource::Inconnue
        },
        scopes: scopes_of(root.get("scopes")),
        datapass_url: None,
    }
}

/// ISO 8601 with an offset, or a bare date (midnight UTC).
fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::Date>()
            .ok()
            .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|zoned| zoned.timestamp())
    })
}

/// How urgent the warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Urgency {
    /// 90 days or less.
    Information,
    /// 30 days or less.
    Attention,
    /// 7 days or less.
    Urgent,
    /// Expired: counter lookups are refused.
    Expire,
}

/// The banner for a token, if one is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ExpiryWarning {
    pub urgency: Urgency,
    /// Whole days left (negative once expired).
    #[ts(type = "number")]
    pub days_left: i64,
    /// In French, naming who must act.
    pub message: String,
}

/// The warning due `now` for a token of `commune_name` expiring at `info.expires_at`.
pub fn expiry_warning(
    info: &TokenInfo,
    commune_name: &str,
    now: Timestamp,
) -> Option<ExpiryWarning> {
    let expires_at = info.expires_at?;
    let left = expires_at.duration_since(now);
    let days_left = left.as_secs().div_euclid(86_400);
    let urgency = if left <= SignedDuration::ZERO {
        Urgency::Expire
    } else if days_left < WARNING_DAYS[2] {
        Urgency::Urgent
    } else if days_left < WARNING_DAYS[1] {
        Urgency::Attention
    } else if days_left < WARNING_DAYS[0] {
        Urgency::Information
    } else {
        return None;
    };
    let date = expires_at
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%d/%m/%Y")
        .to_string();
    let who = "Seul le demandeur de l'habilitation DataPass (souvent le maire ou le secrétaire \
               général) peut le prolonger de 18 mois, depuis son compte sur \
               particulier.api.gouv.fr ; il reçoit aussi les rappels par courriel.";
    let stale = if info.source == ExpirySource::Jeton {
        " (date lue dans le jeton : si le jeton a déjà été prolongé, enregistrez le nouveau \
         jeton)"
    } else {
        ""
    };
    let message = if urgency == Urgency::Expire {
        format!(
            "Le jeton API Particulier de {commune_name} a expiré le {date}{stale} : la recherche \
             de QF au guichet est impossible. {who} Enregistrez ensuite le jeton prolongé dans \
             Paramètres › Secrets."
        )
    } else {
        format!(
            "Le jeton API Particulier de {commune_name} expire le {date}{stale}, dans {days_left} \
             jour{}. {who}",
            if days_left > 1 { "s" } else { "" }
        )
    };
    Some(ExpiryWarning {
        urgency,
        days_left,
        message,
    })
}

/// How often the window asks the server again about a token it already knows.
pub const CHECK_EVERY: SignedDuration = SignedDuration::from_hours(24);

impl ExpirySource {
    fn id(self) -> &'static str {
        match self {
            ExpirySource::Serveur => "serveur",
            ExpirySource::Jeton => "jeton",
            ExpirySource::Inconnue => "inconnue",
        }
    }

    fn from_id(id: &str) -> ExpirySource {
        match id {
            "serveur" => ExpirySource::Serveur,
            "jeton" => ExpirySource::Jeton,
            _ => ExpirySource::Inconnue,
        }
    }
}

/// Records what was learnt about `commune_id`'s token.
pub fn record(
    tx: &Transaction<'_>,
    commune_id: i64,
    info: &TokenInfo,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO particulier_tokens (commune_id, checked_at, expires_at, source, scopes,
         datapass_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (commune_id) DO UPDATE SET checked_at = excluded.checked_at,
         expires_at = excluded.expires_at, source = excluded.source, scopes = excluded.scopes,
         datapass_url = excluded.datapass_url",
        params![
            commune_id,
            now.to_string(),
            info.expires_at.map(|at| at.to_string()),
            info.source.id(),
            serde_json::to_string(&info.scopes).unwrap_or_else(|_| "[]".into()),
            info.datapass_url,
        ],
    )?;
    Ok(())
}

/// Forgets a removed token.
pub fn forget(tx: &Transaction<'_>, commune_id: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM particulier_tokens WHERE commune_id = ?1",
        [commune_id],
    )?;
    Ok(())
}

/// What is known of `commune_id`'s token, and when it was checked.
pub fn recorded(conn: &Connection, commune_id: i64) -> Result<Option<(TokenInfo, Timestamp)>> {
    let row = conn
        .query_row(
            "SELECT checked_at, expires_at, source, scopes, datapass_url FROM particulier_tokens
             WHERE commune_id = ?1",
            [commune_id],
            |row| {
                let checked_at: String = row.get(0)?;
                let expires_at: Option<String> = row.get(1)?;
                let source: String = row.get(2)?;
                let scopes: String = row.get(3)?;
                let info = TokenInfo {
                    expires_at: expires_at.and_then(|at| at.parse().ok()),
                    source: ExpirySource::from_id(&source),
                    scopes: serde_json::from_str(&scopes).unwrap_or_default(),
                    datapass_url: row.get(4)?,
                };
                Ok((info, checked_at.parse::<Timestamp>().ok()))
            },
        )
        .optional()?;
    Ok(row.and_then(|(info, checked_at)| Some((info, checked_at?))))
}

/// Whether a token checked at `checked_at` should be asked about again.
pub fn check_due(checked_at: Option<Timestamp>, now: Timestamp) -> bool {
    checked_at.is_none_or(|at| now.duration_since(at) >= CHECK_EVERY)
}

/// A commune's warning, for the window's banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TokenBanner {
    #[ts(type = "number")]
    pub commune_id: i64,
    pub warning: ExpiryWarning,
    pub datapass_url: Option<String>,
}

/// The warnings due `now` for every commune whose token is known, most urgent first.
pub fn banners(conn: &Connection, now: Timestamp) -> Result<Vec<TokenBanner>> {
    let mut banners = Vec::new();
    for commune in crate::communes::list(conn)? {
        if let Some((info, _)) = recorded(conn, commune.id)? {
            if let Some(warning) = expiry_warning(&info, &commune.name, now) {
                banners.push(TokenBanner {
                    commune_id: commune.id,
                    warning,
                    datapass_url: info.datapass_url,
                });
            }
        }
    }
    banners.sort_by_key(|banner| std::cmp::Reverse(banner.warning.urgency));
    Ok(banners)
}

/// Whether the token may read a block of the answer (`cnaf_enfants`…): the counter hides what
/// it cannot read rather than showing it empty.
pub fn allows(info: &TokenInfo, scope: &str) -> bool {
    info.scopes.iter().any(|s| s == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn info(expires: &str, source: ExpirySource) -> TokenInfo {
        TokenInfo {
            expires_at: Some(at(expires)),
            source,
            scopes: vec!["cnaf_quotient_familial".into()],
            datapass_url: None,
        }
    }

    #[test]
    fn the_warning_grows_at_90_30_and_7_days_and_blocks_once_expired() {
        let token = info("2027-03-01T00:00:00Z", ExpirySource::Serveur);
        let urgency = |now: &str| expiry_warning(&token, "Majastres", at(now)).map(|w| w.urgency);
        assert_eq!(urgency("2026-11-30T00:00:00Z"), None, "91 days left");
        assert_eq!(urgency("2026-12-02T00:00:00Z"), Some(Urgency::Information));
        assert_eq!(urgency("2027-01-31T00:00:00Z"), Some(Urgency::Attention));
        assert_eq!(urgency("2027-02-22T12:00:00Z"), Some(Urgency::Urgent));
        assert_eq!(urgency("2027-03-01T00:00:00Z"), Some(Urgency::Expire));
        let expired = expiry_warning(&token, "Majastres", at("2027-03-05T00:00:00Z")).unwrap();
        assert!(expired.days_left < 0);
        assert!(
            expired.message.contains("a expiré le 01/03/2027"),
            "{}",
            expired.message
        );
        assert!(expired.message.contains("demandeur"), "{}", expired.message);
        let soon = expiry_warning(&token, "Majastres", at("2027-02-27T00:00:00Z")).unwrap();
        assert_eq!(soon.days_left, 2);
        assert!(soon.message.contains("dans 2 jours"), "{}", soon.message);
    }

    #[test]
    fn what_was_learnt_is_kept_and_turned_into_banners() {
        let (_dir, store, commune) = crate::fixtures::store_with_commune();
        let now = at("2027-02-25T00:00:00Z");
        assert!(check_due(None, now));
        assert!(store.read(|c| banners(c, now)).unwrap().is_empty());
        let token = TokenInfo {
            datapass_url: Some("https://datapass.api.gouv.fr/demandes/42".into()),
            ..info("2027-03-01T00:00:00Z", ExpirySource::Serveur)
        };
        store.write(|tx| record(tx, commune, &token, now)).unwrap();
        let (kept, checked_at) = store.read(|c| recorded(c, commune)).unwrap().unwrap();
        assert_eq!((kept, checked_at), (token.clone(), now));
        assert!(!check_due(Some(checked_at), at("2027-02-25T23:00:00Z")));
        assert!(check_due(Some(checked_at), at("2027-02-26T00:00:00Z")));
        let shown = store.read(|c| banners(c, now)).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].warning.urgency, Urgency::Urgent);
        assert_eq!(shown[0].datapass_url, token.datapass_url);
        store.write(|tx| forget(tx, commune)).unwrap();
        assert!(store.read(|c| banners(c, now)).unwrap().is_empty());
    }

    #[test]
    fn a_date_read_in_the_token_says_it_may_be_stale() {
        let token = info("2027-01-01T00:00:00Z", ExpirySource::Jeton);
        let warning = expiry_warning(&token, "Majastres", at("2026-12-20T00:00:00Z")).unwrap();
        assert!(warning.message.contains("date lue dans le jeton"));
        let never = TokenInfo {
            expires_at: None,
            source: ExpirySource::Inconnue,
            scopes: vec![],
            datapass_url: None,
        };
        assert_eq!(
            expiry_warning(&never, "Majastres", at("2026-12-20T00:00:00Z")),
            None
        );
    }

    #[test]
    fn introspection_answers_are_read_with_the_claim_as_fallback() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"jti":"x","scopes":["cnaf_quotient_familial"],"exp":1800000000}"#);
        let token = SecretString::from(format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"));
        let claims = jwt_claims(&token);
        assert_eq!(
            claim_expiry(claims.as_ref()),
            Timestamp::from_second(1_800_000_000).ok()
        );

        let v3 = br#"{"data":{"scopes":["cnaf_quotient_familial","cnaf_enfants"],
            "date_expiration":"2027-06-01T10:00:00+02:00"},"links":{"datapass":"https://datapass.api.gouv.fr/demandes/42"}}"#;
        let read = read_v3(v3, claims.as_ref());
        assert_eq!(read.source, ExpirySource::Serveur);
        assert_eq!(read.expires_at, Some(at("2027-06-01T08:00:00Z")));
        assert!(allows(&read, "cnaf_enfants") && !allows(&read, "cnaf_adresse"));
        assert_eq!(
            read.datapass_url.as_deref(),
            Some("https://datapass.api.gouv.fr/demandes/42")
        );
        let no_date = read_v3(
            br#"{"data":{"scopes":[],"date_expiration":null}}"#,
            claims.as_ref(),
        );
        assert_eq!(no_date.source, ExpirySource::Jeton);

        let v2 = read_v2(
            br#"{"_id":"x","name":"","scopes":["cnaf_allocataires"]}"#,
            None,
        );
        assert_eq!(v2.source, ExpirySource::Inconnue);
        assert_eq!(v2.scopes, vec!["cnaf_allocataires".to_string()]);
        assert!(jwt_claims(&SecretString::from("pas-un-jwt".to_string())).is_none());
    }
}
