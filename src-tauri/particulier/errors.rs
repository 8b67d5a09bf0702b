//! What a failed lookup means for the agent at the counter, and what to do next.
//!
//! API Particulier's codes changed meaning between versions (`00355` was "identity unknown"
//! and became "period too old"), the staging fixtures lag behind the server, and new codes
//! appear. So a failure is classified by its **HTTP status first** and only then refined by the
//! first error's code (spec §8.2, `clients/SPECS.md` §6.2); an unknown code still gets the
//! explanation of its status. 404 and 422 are easy to confuse (§8.3): 404 means the person was
//! identified but no caisse has a dossier (offer the paper attestation); 422 means the input was
//! refused or nobody matches it (check the identity).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Code, Error};

/// What kind of failure, for the screens and for retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A parameter was refused: the message names the field.
    InvalidInput,
    /// Nobody in the Sécurité sociale register matches this identity (422 `35560`).
    IdentityNotRecognised,
    /// The person is known but no caisse holds a dossier (404 `23003`, `10003`, `35003`…).
    NoDossier,
    /// The requested month cannot be given (`00354`, `00355`, `00356`, `35565`).
    PeriodRefused,
    /// The token is expired, blacklisted, unknown or lacks the scopes (401, 403).
    TokenRefused,
    /// Too many requests with this token (429): wait `retry_after`.
    RateLimited,
    /// The same request is already being answered (409).
    Conflict,
    /// API Particulier or the caisse is unreachable, slow or down (5xx, timeouts).
    Unavailable,
    /// An answer this client does not understand, or a request it should not have sent.
    Unexpected,
    /// A local failure (the database, the vault) around the call.
    Local,
}

/// A failed lookup: a French explanation and the next step for the agent, with the HTTP status,
/// the API code and the `X-Request-Id` for the journal and the support. Never a token, never
/// an identity field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    pub kind: ErrorKind,
    pub code: Code,
    pub http_status: Option<u16>,
    pub api_code: Option<String>,
    pub request_id: Option<String>,
    /// What happened, in French.
    pub message: String,
    /// What the agent does now, in French.
    pub next_step: String,
    /// For the log only: the API's own titles and details, or the network error.
    pub technical: String,
    /// How long the server asked to wait, when it said.
    pub retry_after: Option<Duration>,
}

impl LookupError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, next_step: impl Into<String>) -> Self {
        LookupError {
            kind,
            code: code_of(kind),
            http_status: None,
            api_code: None,
            request_id: None,
            message: message.into(),
            next_step: next_step.into(),
            technical: String::new(),
            retry_after: None,
        }
    }

    /// The message and the next step, as one text for the agent.
    pub fn full_message(&self) -> String {
        if self.next_step.is_empty() {
            self.message.clone()
        } else {
            format!("{} {}", self.message, self.next_step)
        }
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_message())
    }
}

impl std::error::Error for LookupError {}

/// The [`Code`] the window branches on: a refused input or identity is `Validation`, a missing
/// dossier `NotFound`, a token problem `TokenRefused` (an administrator must act), an outage or
/// a rate limit `ServiceUnavailable` (try again later).
pub fn code_of(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::IdentityNotRecognised | ErrorKind::PeriodRefused => {
            Code::Validation
        }
        ErrorKind::NoDossier => Code::NotFound,
        ErrorKind::TokenRefused => Code::TokenRefused,
        ErrorKind::RateLimited | ErrorKind::Unavailable => Code::ServiceUnavailable,
        ErrorKind::Conflict => Code::Conflict,
        ErrorKind::Unexpected | ErrorKind::Local => Code::Internal,
    }
}

impl From<Error> for LookupError {
    fn from(error: Error) -> LookupError {
        LookupError {
            code: error.code,
            technical: error.detail(),
            ..LookupError::new(ErrorKind::Local, error.message, "")
        }
    }
}

impl From<LookupError> for Error {
    fn from(error: LookupError) -> Error {
        Error::new(error.code, error.full_message()).with_source(error)
    }
}

/// One entry of the JSON:API `errors` array.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiErrorEntry {
    pub code: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    /// `source.parameter`, when the server names the parameter.
    pub parameter: Option<String>,
    /// `meta.retry_in`, in seconds.
    pub retry_in: Option<u64>,
}

/// Reads `{"errors": [...]}` leniently: `source` absent or null, codes as strings or numbers.
pub fn parse_errors(body: &[u8]) -> Vec<ApiErrorEntry> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let Some(errors) = value.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    errors
        .iter()
        .map(|entry| match entry {
            Value::String(detail) => ApiErrorEntry {
                detail: Some(detail.clone()),
                ..ApiErrorEntry::default()
            },
            entry => ApiErrorEntry {
                code: text(entry.get("code")),
                title: text(entry.get("title")),
                detail: text(entry.get("detail")),
                parameter: text(entry.pointer("/source/parameter")),
                retry_in: entry.pointer("/meta/retry_in").and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }),
            },
        })
        .collect()
}

const RETRY_LATER: &str = "Réessayez dans quelques minutes ; si cela dure, consultez \
                           status.particulier.api.gouv.fr.";
const PAPER: &str = "Proposez à la famille d'apporter son attestation de quotient familial \
                     (papier ou téléchargée sur caf.fr ou msa.fr).";
const CHECK_IDENTITY: &str = "Vérifiez avec la personne tous ses prénoms (dans l'ordre de l'état \
                              civil, chacun dans son champ), son nom de naissance, sa date et \
                              son lieu de naissance. Seule l'identité d'un allocataire (parent, \
                              pas d'enfant) permet la recherche.";
const ADMIN_TOKEN: &str = "Un administrateur doit enregistrer un jeton valide dans Paramètres › \
                           Secrets (ou « guichet-qf secret set particulier-token »).";

/// The French explanation of a parameter refused by the server, by code or parameter name.
fn field_message(entry: &ApiErrorEntry) -> String {
    let by_code = match entry.code.as_deref() {
        Some("00363") => Some("la date de naissance est refusée"),
        Some("00365") => Some("la commune de naissance est refusée (code COG)"),
        Some("00367") => Some("les prénoms sont refusés"),
        Some("00400") => Some("le code du pays de naissance est refusé"),
        Some("00420") => Some("le nom de naissance est refusé"),
        Some("00422") => Some("le nom d'usage est refusé"),
        Some("00427") => Some("le sexe est refusé"),
        Some("00428") => Some("le département de naissance est refusé"),
        _ => None,
    };
    match (by_code, &entry.parameter, &entry.detail) {
        (Some(text), _, _) => text.to_string(),
        (None, Some(parameter), _) => format!("le paramètre « {parameter} » est refusé"),
        (None, None, Some(detail)) => detail.clone(),
        (None, None, None) => "un paramètre est refusé".to_string(),
    }
}

/// Classifies an answer that is not a success: status first, then the first error's code.
pub fn classify(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> LookupError {
    let entries = parse_errors(body);
    let first = entries.first().cloned().unwrap_or_default();
    let code = first.code.as_deref().unwrap_or("");
    let technical = if entries.is_empty() {
        format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
    } else {
        entries
            .iter()
            .map(|e| {
                format!(
                    "{} {} — {}",
                    e.code.as_deref().unwrap_or("?"),
                    e.title.as_deref().unwrap_or(""),
                    e.detail.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let retry_in = first.retry_in.map(Duration::from_secs);
    let (kind, message, next_step) = match status {
        400 => (
            ErrorKind::Unexpected,
            "API Particulier a refusé la forme de la demande (erreur 400).".to_string(),
            "Signalez-le au support de Guichet QF avec l'identifiant de requête.".to_string(),
        ),
        401 => {
            let message = match code {
                "00103" => "Le jeton API Particulier de la commune a expiré.",
                "00105" => {
                    "Le jeton API Particulier de la commune a été révoqué (mis sur liste noire)."
                }
                "00108" | "00109" => {
                    "Le jeton API Particulier ne correspond pas à l'environnement appelé \
                     (jeton de test en production, ou l'inverse)."
                }
                _ => "API Particulier ne reconnaît pas le jeton de la commune.",
            };
            let next = match code {
                "00103" => {
                    "Le demandeur de l'habilitation (signataire de la demande DataPass) doit le \
                     prolonger sur particulier.api.gouv.fr/compte ; un administrateur enregistre \
                     ensuite le jeton dans Paramètres › Secrets."
                }
                "00105" => {
                    "Le demandeur de l'habilitation doit en obtenir un nouveau sur \
                     particulier.api.gouv.fr/compte ; un administrateur l'enregistre ensuite \
                     dans Paramètres › Secrets."
                }
                _ => ADMIN_TOKEN,
            };
            (
                ErrorKind::TokenRefused,
                message.to_string(),
                next.to_string(),
            )
        }
        403 => {
            let message = match code {
                "00107" => "API Particulier refuse l'adresse IP de la mairie pour ce jeton.",
                "00100" => {
                    "Le jeton API Particulier de la commune n'ouvre pas l'accès au quotient \
                     familial (habilitation insuffisante)."
                }
                _ => "API Particulier refuse l'accès avec ce jeton (erreur 403).",
            };
            let next = match code {
                "00107" => {
                    "Le demandeur de l'habilitation doit ajouter l'adresse IP de la mairie sur \
                     particulier.api.gouv.fr/compte."
                }
                _ => {
                    "Le demandeur de l'habilitation doit vérifier les données autorisées sur \
                     particulier.api.gouv.fr/compte (quotient familial CAF/MSA)."
                }
            };
            (
                ErrorKind::TokenRefused,
                message.to_string(),
                next.to_string(),
            )
        }
        404 if code == "00402" || entries.is_empty() => (
            ErrorKind::Unexpected,
            "L'adresse d'API Particulier utilisée n'existe pas (erreur 404).".to_string(),
            "Vérifiez l'adresse configurée (GUICHET_QF_PARTICULIER_URL) ou signalez-le au \
             support de Guichet QF."
                .to_string(),
        ),
        404 => {
            let message = match code {
                "23003" => {
                    "La personne est identifiée, mais la CAF n'a pas de dossier allocataire \
                     à son nom."
                }
                "10003" => {
                    "La personne est identifiée, mais la MSA n'a pas de dossier allocataire \
                     à son nom."
                }
                "35003" | "40003" => {
                    "La personne est identifiée, mais elle n'est rattachée à aucune caisse \
                     (CAF ou MSA)."
                }
                _ => "Aucun dossier allocataire CAF ou MSA n'a été trouvé pour cette identité.",
            };
            let next = format!(
                "{PAPER} En début de mois, la CAF met ses données à jour après le premier \
                 week-end : une nouvelle recherche quelques jours plus tard peut aboutir."
            );
            (ErrorKind::NoDossier, message.to_string(), next)
        }
        409 => (
            ErrorKind::Conflict,
            "Une recherche identique est déjà en cours.".to_string(),
            "Attendez quelques secondes, puis relancez-la.".to_string(),
        ),
        422 => classify_422(&entries, code),
        429 => {
            let wait = retry_after.or(retry_in).unwrap_or(Duration::from_secs(1));
            (
                ErrorKind::RateLimited,
                "Trop de demandes envoyées à API Particulier avec le jeton de la commune."
                    .to_string(),
                format!("Réessayez dans {} s.", wait.as_secs().max(1)),
            )
        }
        500..=599 => {
            let message = match (status, code) {
                (503, _) | (_, "35020") => {
                    "Le service de la CAF et de la MSA est en maintenance.".to_string()
                }
                (504, _) | (_, "35002") => {
                    "La CAF ou la MSA n'a pas répondu à temps à API Particulier.".to_string()
                }
                _ => format!(
                    "API Particulier ou le service de la CAF et de la MSA est momentanément \
                     indisponible (erreur {status})."
                ),
            };
            let next = match retry_in {
                Some(wait) => format!(
                    "Réessayez dans {} s ; si cela dure, consultez status.particulier.api.gouv.fr.",
                    wait.as_secs().max(1)
                ),
                None => RETRY_LATER.to_string(),
            };
            (ErrorKind::Unavailable, message, next)
        }
        _ => (
            ErrorKind::Unexpected,
            format!("API Particulier a répondu de façon inattendue (erreur {status})."),
            "Réessayez ; si cela se répète, signalez-le au support de Guichet QF avec \
             l'identifiant de requête."
                .to_string(),
        ),
    };
    LookupError {
        http_status: Some(status),
        api_code: first.code.clone(),
        request_id,
        technical,
        retry_after: if kind == ErrorKind::RateLimited {
            Some(retry_after.or(retry_in).unwrap_or(Duration::from_secs(1)))
        } else {
            retry_in
        },
        ..LookupError::new(kind, message, next_step)
    }
}

fn classify_422(entries: &[ApiErrorEntry], code: &str) -> (ErrorKind, String, String) {
    let period_detail = entries
        .first()
        .and_then(|e| e.detail.as_deref())
        .is_some_and(|d| d.contains("période") || d.contains("mois"));
    match code {
        "35560" => (
            ErrorKind::IdentityNotRecognised,
            "Identité non reconnue par la Sécurité sociale.".to_string(),
            CHECK_IDENTITY.to_string(),
        ),
        "00355" if !period_detail => (
            ErrorKind::IdentityNotRecognised,
            "Identité non reconnue par la Sécurité sociale.".to_string(),
            CHECK_IDENTITY.to_string(),
        ),
        "35561" | "00366" => (
            ErrorKind::InvalidInput,
            "La Sécurité sociale refuse une donnée d'état civil (nom, sexe, commune ou \
             département de naissance)."
                .to_string(),
            "Vérifiez en particulier le code COG de la commune de naissance (pas le code \
             postal), le département et le sexe."
                .to_string(),
        ),
        "00354" | "00355" | "00356" | "35565" => (
            ErrorKind::PeriodRefused,
            "Le mois demandé n'est pas disponible.".to_string(),
            "Le quotient familial est disponible pour le mois en cours et les 23 mois \
             précédents ; choisissez un autre mois."
                .to_string(),
        ),
        "00203" | "00210" | "00212" => (
            ErrorKind::InvalidInput,
            "API Particulier refuse le SIRET de la commune envoyé comme destinataire.".to_string(),
            "Un administrateur doit vérifier le SIRET de la commune dans Paramètres.".to_string(),
        ),
        _ => {
            let fields: Vec<String> = entries.iter().map(field_message).collect();
            let fields = if fields.is_empty() {
                "un paramètre est refusé".to_string()
            } else {
                fields.join(" ; ")
            };
            (
                ErrorKind::InvalidInput,
                format!("API Particulier refuse la demande : {fields}."),
                "Corrigez la saisie puis relancez la recherche.".to_string(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(code: &str, detail: &str, source: Value) -> Vec<u8> {
        let mut entry = json!({"code": code, "title": "t", "detail": detail, "meta": {}});
        if !source.is_null() {
            entry["source"] = source;
        }
        json!({ "errors": [entry] }).to_string().into_bytes()
    }

    #[test]
    fn status_comes_first_and_unknown_codes_degrade_gracefully() {
        let cases = [
            (401, "00103", ErrorKind::TokenRefused, "expiré"),
            (401, "99999", ErrorKind::TokenRefused, "ne reconnaît pas"),
            (404, "23003", ErrorKind::NoDossier, "CAF"),
            (404, "10003", ErrorKind::NoDossier, "MSA"),
            (404, "37003", ErrorKind::NoDossier, "Aucun dossier"),
            (
                422,
                "35560",
                ErrorKind::IdentityNotRecognised,
                "non reconnue",
            ),
            (422, "00420", ErrorKind::InvalidInput, "nom de naissance"),
            (422, "12345", ErrorKind::InvalidInput, "refuse la demande"),
            (502, "35001", ErrorKind::Unavailable, "indisponible"),
            (503, "35020", ErrorKind::Unavailable, "maintenance"),
            (504, "35002", ErrorKind::Unavailable, "à temps"),
            (599, "77777", ErrorKind::Unavailable, "indisponible"),
            (418, "00000", ErrorKind::Unexpected, "inattendue"),
        ];
        for (status, code, kind, expected) in cases {
            let error = classify(status, &body(code, "d", Value::Null), None, None);
            assert_eq!(error.kind, kind, "{status} {code}");
            assert_eq!(error.api_code.as_deref(), Some(code));
            assert!(error.message.contains(expected), "{}", error.message);
            assert!(!error.next_step.is_empty());
        }
    }

    #[test]
    fn code_00355_means_identity_in_april_and_period_in_latest() {
        let april = classify(
            422,
            &body(
                "00355",
                "Impossible d'identifier l'allocataire",
                Value::Null,
            ),
            None,
            None,
        );
        assert_eq!(april.kind, ErrorKind::IdentityNotRecognised);
        let latest = classify(
            422,
            &body("00355", "La période demandée est antérieure", Value::Null),
            None,
            None,
        );
        assert_eq!(latest.kind, ErrorKind::PeriodRefused);
    }

    #[test]
    fn errors_parse_with_source_null_absent_or_set() {
        let entries = parse_errors(&body("00210", "x", json!({"parameter": "recipient"})));
        assert_eq!(entries[0].parameter.as_deref(), Some("recipient"));
        assert!(parse_errors(&body("00210", "x", Value::Null))[0]
            .parameter
            .is_none());
        assert!(parse_errors(b"not json").is_empty());
        let flat = parse_errors(br#"{"errors":["Vous avez effectu\u00e9 trop de requ\u00eates"]}"#);
        assert_eq!(flat.len(), 1);
    }
}
