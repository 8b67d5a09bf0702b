//! The counter form's request and answer, as the window sends and shows them.
//!
//! The form adds two things to a lookup: the tick "pièce d'identité vérifiée", without which
//! no call is made (the CGU allow a lookup only for the person at the counter, identity
//! checked), and a result shaped for a card rather than the raw blocks the CLI prints. The
//! identity typed is not stored by the lookup (only the journal rows of [`super::lookup`]
//! remain); the window sends it back with the card only when the agent saves the card in the
//! family file (`families::view::record_counter`), hence `Deserialize` on the card's types.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::identity::{self, IdentityInput};
use super::{LookupError, LookupRequest, ParticulierClient, Person, QfValue};
use crate::communes::Commune;
use crate::error::Error;
use crate::store::Store;

/// What the counter form sends.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct CounterRequest {
    #[ts(type = "number")]
    pub commune_id: i64,
    /// Why the QF is consulted; written to the journal.
    pub motif: String,
    /// The agent ticked "J'ai vérifié la pièce d'identité".
    pub piece_verifiee: bool,
    pub identite: IdentityInput,
    /// A past month, both or neither; the current month otherwise.
    #[serde(default)]
    pub annee: Option<i32>,
    #[serde(default)]
    pub mois: Option<i32>,
}

/// The QF card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CounterQuotient {
    /// `CNAF` or `MSA`.
    pub fournisseur: Option<String>,
    /// `None` when the caisse sent no value or 0: "ressources non connues", never a QF of 0.
    #[ts(type = "number | null")]
    pub valeur: Option<i64>,
    #[ts(type = "number | null")]
    pub annee: Option<i64>,
    #[ts(type = "number | null")]
    pub mois: Option<i64>,
    #[ts(type = "number | null")]
    pub annee_calcul: Option<i64>,
    #[ts(type = "number | null")]
    pub mois_calcul: Option<i64>,
}

/// An allocataire or a child of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CounterPerson {
    pub nom_naissance: Option<String>,
    pub nom_usage: Option<String>,
    pub prenoms: Option<String>,
    /// "27/12/1982", "12/1982", "1982"; `None` when unknown.
    pub date_naissance: Option<String>,
    pub sexe: Option<String>,
}

/// What the counter shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CounterResult {
    /// `None` when the token has no scope for it: the card then leaves the block out rather
    /// than showing it empty.
    pub quotient: Option<CounterQuotient>,
    pub allocataires: Option<Vec<CounterPerson>>,
    pub enfants: Option<Vec<CounterPerson>>,
    /// The postal address as the caisse knows it, line by line (empty parts left out); `None`
    /// without the `cnaf_adresse` scope.
    pub adresse: Option<Vec<String>>,
    /// API Particulier's `X-Request-Id`, for its support.
    pub request_id: Option<String>,
}

/// Checks the form, looks the family up and journals the call (see [`super::lookup`]).
/// `today` is the counter's local date, for the birth-date and period bounds.
pub async fn lookup_at_counter(
    store: &Store,
    client: &ParticulierClient,
    commune: &Commune,
    agent: &str,
    request: &CounterRequest,
    today: Date,
    now: Timestamp,
) -> Result<CounterResult, LookupError> {
    if !request.piece_verifiee {
        return Err(Error::validation(
            "Vérifiez la pièce d'identité de la personne présente et cochez la case : la \
             consultation n'est permise qu'à cette condition.",
        )
        .into());
    }
    let identity = identity::normalise(&request.identite, today)?;
    let period =
        match (request.annee, request.mois) {
            (Some(annee), Some(mois)) => Some(identity::period(annee, mois, today)?),
            (None, None) => None,
            _ => return Err(Error::validation(
                "Période : indiquez le mois et l'année, ou aucun des deux pour le mois en cours.",
            )
            .into()),
        };
    let lookup = super::lookup(
        store,
        client,
        commune,
        &LookupRequest {
            agent,
            motif: &request.motif,
            identity: &identity,
            period,
        },
        now,
    )
    .await?;
    let person = |p: &Person| CounterPerson {
        nom_naissance: p.nom_naissance.clone(),
        nom_usage: p.nom_usage.clone(),
        prenoms: p.prenoms.clone(),
        date_naissance: (p.date_naissance.year.is_some()).then(|| p.date_naissance.display()),
        sexe: p.sexe.clone(),
    };
    Ok(CounterResult {
        quotient: lookup.quotient.as_ref().map(|q| CounterQuotient {
            fournisseur: q.fournisseur.clone(),
            valeur: match q.valeur {
                QfValue::Known(valeur) => Some(valeur),
                QfValue::Unknown => None,
            },
            annee: q.annee,
            mois: q.mois,
            annee_calcul: q.annee_calcul,
            mois_calcul: q.mois_calcul,
        }),
        allocataires: lookup
            .data
            .contains_key("allocataires")
            .then(|| lookup.allocataires.iter().map(person).collect()),
        enfants: lookup
            .data
            .contains_key("enfants")
            .then(|| lookup.enfants.iter().map(person).collect()),
        adresse: lookup.data.get("adresse").and_then(address_lines),
        request_id: lookup.request_id,
    })
}

/// The address block's lines in postal order (spec §4.3), `None` when it is not an object.
fn address_lines(block: &serde_json::Value) -> Option<Vec<String>> {
    const PARTS: [&str; 7] = [
        "destinataire",
        "complement_information",
        "complement_information_geographique",
        "numero_libelle_voie",
        "lieu_dit",
        "code_postal_ville",
        "pays",
    ];
    let block = block.as_object()?;
    Some(
        PARTS
            .iter()
            .filter_map(|part| block.get(*part)?.as_str())
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect(),
    )
}
