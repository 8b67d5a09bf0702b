//! The counter lookup: a family's quotient familial from API Particulier, by the identity of an
//! allocataire (spec `api-particulier.md` §4; the numéro-allocataire lookup is gone, §0).
//!
//! - [`identity`] normalises and checks what the agent typed with the server's own rules, so a
//!   mistake is named in French before anything leaves the PC;
//! - [`client`] makes the call (timeouts, the token's shared [`limiter`], 429 honoured) and
//!   reads the answer leniently;
//! - [`errors`] turns a refusal into a French explanation and the agent's next step;
//! - [`lookup`] ties them together and **journals every call** it made (success or failure) in
//!   one transaction once the answers are in: time, agent, commune, motif, endpoint path,
//!   recipient, HTTP status, API code, `X-Request-Id` — never the token, never the identity. The
//!   journal row is checked before the call, so that a call is never made that could not be
//!   journaled, and the family's data is given back only once its rows are committed.
//!
//! Nothing here reads the clock or the environment: "now" and the base URL are arguments.

pub mod client;
pub mod compromised;
pub mod connect;
pub mod counter;
pub mod errors;
pub mod identity;
pub mod limiter;
pub mod token;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::communes::Commune;
use crate::error::Error;
use crate::journal::{self, Action, Entry};
use crate::store::Store;

pub use client::{Call, ClientConfig, ParticulierClient, IDENTITY_PATH};
pub use errors::{ErrorKind, LookupError};
pub use identity::{Identity, IdentityInput, Period};

/// What the agent asks: whose QF, for which month, and why.
#[derive(Debug, Clone)]
pub struct LookupRequest<'a> {
    /// The agent's name, as the journal records it.
    pub agent: &'a str,
    /// Why (the démarche: "inscription cantine"…), required by the journal.
    pub motif: &'a str,
    pub identity: &'a Identity,
    /// A past month, or `None` for the current one.
    pub period: Option<Period>,
}

/// A family found: the blocks as received (for `--json` and later screens) and their lenient
/// reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// `quotient_familial`, `allocataires`, `enfants` (and `adresse`) as received; a block is
    /// missing when the token lacks its scope.
    pub data: serde_json::Map<String, Value>,
    pub request_id: Option<String>,
    pub quotient: Option<Quotient>,
    pub allocataires: Vec<Person>,
    pub enfants: Vec<Person>,
}

/// The QF value: a number, or unknown (`null`, or `0` which the CNAF sends when it could not
/// compute it for lack of declared resources) — never shown as a QF of 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QfValue {
    Known(i64),
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotient {
    /// `CNAF` or `MSA`.
    pub fournisseur: Option<String>,
    pub valeur: QfValue,
    pub annee: Option<i64>,
    pub mois: Option<i64>,
    pub annee_calcul: Option<i64>,
    pub mois_calcul: Option<i64>,
}

impl Quotient {
    /// "QF 650 € (CAF), juin 2023" or "ressources non connues (CAF)…".
    pub fn summary(&self) -> String {
        let caisse = match self.fournisseur.as_deref() {
            Some("CNAF") => "CAF".to_string(),
            Some(other) => other.to_string(),
            None => "caisse non précisée".to_string(),
        };
        let value = match self.valeur {
            QfValue::Known(valeur) => format!("QF {valeur} €"),
            QfValue::Unknown => {
                "ressources non connues (QF non calculé : demandez l'attestation papier)"
                    .to_string()
            }
        };
        let month = match (self.mois, self.annee) {
            (Some(m), Some(a)) => format!(", mois de {m:02}/{a}"),
            _ => String::new(),
        };
        format!("{value} ({caisse}){month}")
    }
}

/// A birth date with `00` for unknown parts, as the CNAF sends it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartialDate {
    pub year: Option<i16>,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

impl PartialDate {
    /// Reads `AAAA-MM-JJ` with zeros for unknown parts; anything unreadable is unknown.
    pub fn parse(text: &str) -> PartialDate {
        let mut parts = text.trim().splitn(3, '-').map(|p| p.parse::<i16>().ok());
        let year = parts.next().flatten().filter(|y| *y > 0);
        let month = parts
            .next()
            .flatten()
            .filter(|m| (1..=12).contains(m))
            .map(|m| m as i8);
        let day = parts
            .next()
            .flatten()
            .filter(|d| (1..=31).contains(d))
            .map(|d| d as i8);
        PartialDate {
            year,
            month: month.filter(|_| year.is_some()),
            day: day.filter(|_| year.is_some() && month.is_some()),
        }
    }

    /// `27/12/1982`, `12/1982`, `1982`, or `date inconnue`.
    pub fn display(&self) -> String {
        match (self.day, self.month, self.year) {
            (Some(d), Some(m), Some(y)) => format!("{d:02}/{m:02}/{y}"),
            (None, Some(m), Some(y)) => format!("{m:02}/{y}"),
            (_, _, Some(y)) => y.to_string(),
            _ => "date inconnue".to_string(),
        }
    }
}

/// An allocataire or a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub nom_naissance: Option<String>,
    pub nom_usage: Option<String>,
    /// Space-separated, as sent.
    pub prenoms: Option<String>,
    pub date_naissance: PartialDate,
    pub sexe: Option<String>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: &Value, key: &str) -> Option<i64> {
    match value.get(key) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn people(data: &serde_json::Map<String, Value>, key: &str) -> Vec<Person> {
    data.get(key)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|p| p.is_object())
                .map(|p| Person {
                    nom_naissance: text(p, "nom_naissance"),
                    nom_usage: text(p, "nom_usage"),
                    prenoms: text(p, "prenoms"),
                    date_naissance: text(p, "date_naissance")
                        .map(|d| PartialDate::parse(&d))
                        .unwrap_or_default(),
                    sexe: text(p, "sexe"),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Lookup {
    /// Reads the `data` of a successful answer; every part may be missing or null.
    pub fn from_data(data: serde_json::Map<String, Value>, request_id: Option<String>) -> Lookup {
        let quotient = data
            .get("quotient_familial")
            .filter(|q| q.is_object())
            .map(|q| Quotient {
                fournisseur: text(q, "fournisseur"),
                valeur: match number(q, "valeur") {
                    Some(valeur) if valeur > 0 => QfValue::Known(valeur),
                    _ => QfValue::Unknown,
                },
                annee: number(q, "annee"),
                mois: number(q, "mois"),
                annee_calcul: number(q, "annee_calcul"),
                mois_calcul: number(q, "mois_calcul"),
            });
        Lookup {
            allocataires: people(&data, "allocataires"),
            enfants: people(&data, "enfants"),
            quotient,
            data,
            request_id,
        }
    }
}

/// Checks the motif: required, one line, at most 200 characters (the journal's limit).
pub fn check_motif(motif: &str) -> Result<String, Error> {
    let motif = motif.trim();
    if motif.is_empty() {
        return Err(Error::validation(
            "Motif : obligatoire (par exemple « inscription cantine ») ; il est inscrit au \
             journal des accès.",
        ));
    }
    Ok(motif.to_string())
}

/// The journal row of one call, without its answer yet.
fn journal_entry(commune: &Commune, request: &LookupRequest<'_>, now: Timestamp) -> Entry {
    Entry {
        commune_id: Some(commune.id),
        motif: Some(request.motif.trim().to_string()),
        endpoint: Some(IDENTITY_PATH.to_string()),
        recipient: Some(commune.siret.clone()),
        ..Entry::new(now, request.agent.trim(), Action::ConsultationQf)
    }
}

/// Looks up the family of `request.identity` for `commune` and journals every call made.
// The failure carries the texts the agent reads and the identifiers for the support; it is
// rare and not worth boxing.
#[allow(clippy::result_large_err)]
pub async fn lookup(
    store: &Store,
    client: &ParticulierClient,
    commune: &Commune,
    request: &LookupRequest<'_>,
    now: Timestamp,
) -> Result<Lookup, LookupError> {
    lookup_for(store, client, commune, request, None, now).await
}

/// [`lookup`] on behalf of a known family: its `reference` (our opaque `external_id`, never an
/// identity) goes into each journal row, so that an audit can tell which family a batch call
/// was about.
#[allow(clippy::result_large_err)]
pub async fn lookup_for(
    store: &Store,
    client: &ParticulierClient,
    commune: &Commune,
    request: &LookupRequest<'_>,
    reference: Option<&str>,
    now: Timestamp,
) -> Result<Lookup, LookupError> {
    check_motif(request.motif)?;
    let template = Entry {
        reference: reference.map(str::to_string),
        ..journal_entry(commune, request, now)
    };
    journal::check(&template)?;
    let exchange = client
        .quotient_familial(&commune.siret, request.identity, request.period)
        .await;
    if !exchange.calls.is_empty() {
        store.write(|tx| {
            for call in &exchange.calls {
                let entry = Entry {
                    http_status: call.http_status,
                    api_code: call.api_code.clone(),
                    request_id: call.request_id.clone(),
                    detail: call
                        .http_status
                        .is_none()
                        .then(|| "pas de réponse".to_string()),
                    ..template.clone()
                };
                journal::append(tx, &entry)?;
            }
            Ok(())
        })?;
    }
    let answer = exchange.result?;
    Ok(Lookup::from_data(answer.data, answer.request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_with_zero_parts_are_partly_known() {
        assert_eq!(PartialDate::parse("1982-12-27").display(), "27/12/1982");
        assert_eq!(PartialDate::parse("2012-04-00").display(), "04/2012");
        assert_eq!(PartialDate::parse("2020-00-00").display(), "2020");
        assert_eq!(PartialDate::parse("0000-00-00").display(), "date inconnue");
        assert_eq!(PartialDate::parse("n'importe").display(), "date inconnue");
    }

    #[test]
    fn valeur_null_or_zero_is_unknown_and_missing_blocks_are_tolerated() {
        for valeur in [json!(null), json!(0), json!("0")] {
            let data = json!({ "quotient_familial": { "fournisseur": "CNAF", "valeur": valeur,
                                                      "annee": 2026, "mois": 11 } });
            let Value::Object(data) = data else { panic!() };
            let lookup = Lookup::from_data(data, None);
            let quotient = lookup.quotient.unwrap();
            assert_eq!(quotient.valeur, QfValue::Unknown);
            assert!(quotient.summary().contains("ressources non connues"));
            assert!(!quotient.summary().contains("QF 0"));
        }
        let data = json!({ "enfants": [{ "prenoms": "LEA", "date_naissance": "2020-00-00",
                                         "nom_usage": null }] });
        let Value::Object(data) = data else { panic!() };
        let lookup = Lookup::from_data(data, Some("r".into()));
        assert!(lookup.quotient.is_none() && lookup.allocataires.is_empty());
        assert_eq!(lookup.enfants[0].date_naissance.display(), "2020");
        assert_eq!(lookup.enfants[0].nom_usage, None);
    }
}
